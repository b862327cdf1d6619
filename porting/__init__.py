"""The porting toolkit: any torch model and its Keras port, paired layer by layer, proven equal rung by rung.

    triptych.compare(torch_model, keras_model, X)   # ladder.compare: the rungs and the first divergence
    triptych.transfer(torch_model, keras_model)     # pairing.transfer: weights and state either way, exact
    triptych compare FILE:factory FILE:factory      # command.COMMAND, a ``triptych.commands`` entry point

It stands above the framework packages it pairs (torch_impl, keras_impl: their layer kinds and conversions) and the
core (triptych), which reaches it by name only (``triptych.packages.porting_module``), as it reaches the frameworks.
Modules: ``working`` (the float64, dropout-free working copies), ``pairing`` (layers paired by kind, weights copied),
``divergence`` (the first layer where the pair parts), ``ladder`` (the rungs), ``command`` (the command line).
"""
