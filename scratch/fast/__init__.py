"""The tuned kernels scratch trains and benchmarks with by default, and :func:`accelerate`, which puts them in.

A model file builds its network from the reference layers (``scratch/layers.py``, ``scratch/conv.py``,
``scratch/recurrent.py``): that file is the lesson.  :func:`accelerate` then swaps, in place, each layer
that has a tuned implementation for that implementation, holding the very same parameter arrays, so
weights set, trained or read through either are the same arrays:

- a :class:`~scratch.conv.Conv2DLayer` and the :class:`~scratch.conv.MaxPool2DLayer` after it → one
  :class:`~scratch.fast.conv.ConvPoolLayer` (the pool fused into the convolution's matmul, bias and
  activation after the pool, in place); a Conv2DLayer without a pool after it → ConvPoolLayer(pool=1);
- :class:`~scratch.recurrent.RNNLayer`, ``GRULayer``, ``LSTMLayer`` → their :mod:`scratch.fast.recurrent`
  twins (whole-sequence matmuls, one BLAS thread in the time loops, buffers, σ through tanh), and a
  ``BidirectionalLSTMLayer`` → the same wrapper over two fast LSTM cells;
- a :class:`~scratch.layers.Dense` layer with a sigmoid → σ through one tanh (:func:`scratch.fast.ops.sigmoid`);
- inside any layer (a ResNet's residual blocks included): a bare :class:`~scratch.conv.Conv2D` → the tuned
  :class:`~scratch.fast.conv.Conv2D` (pool 1), a :class:`~scratch.layers.BatchNorm` → :mod:`scratch.fast.norm`'s,
  a :class:`~scratch.attention.PositionEmbedding` → :mod:`scratch.fast.attention`'s; a
  :class:`~scratch.conv.Conv2DTransposeLayer` → :class:`~scratch.fast.conv.Conv2DTransposeLayer`.

Every other layer stays as it is.  parity_tests/test_scratch_kernels.py proves each swap equal to the
reference in float64 (forward, every gradient, one optimizer step: ≤ 1e-12).
"""
from __future__ import annotations

# the reference modules under names of their own: importing scratch.fast.conv, .ops and .recurrent binds those
# names in this package
from scratch import (attention as reference_attention, conv as reference_conv, layers as reference_layers,
                     recurrent as reference_recurrent)
from scratch.fast import (attention as fast_attention, conv as fast_conv, norm as fast_norm, ops as fast_ops,
                          recurrent as fast_recurrent)
from scratch.fast.conv import ConvPoolLayer
from scratch.layers import Dense, Layer, Residual
from scratch.network import Network

RECURRENT_LAYERS = {reference_recurrent.RNNLayer: fast_recurrent.RNNLayer,
                    reference_recurrent.GRULayer: fast_recurrent.GRULayer,
                    reference_recurrent.LSTMLayer: fast_recurrent.LSTMLayer}


def accelerate(network):
    """``network`` with its layers swapped for the fast ones (in place; returned for convenience).  A network
    that is not a :class:`~scratch.network.Network` (deep_net's notebook functions) is returned as it is."""
    if isinstance(network, Network):
        network.layers = _fast_layers(network.layers)
    return network


def _fast_layers(layers: list[Layer]) -> list[Layer]:
    fast, i = [], 0
    while i < len(layers):
        layer, following = layers[i], layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, reference_conv.Conv2DLayer):
            pooled = isinstance(following, reference_conv.MaxPool2DLayer)
            fast.append(ConvPoolLayer(layer.name, layer.params["W"], layer.params["b"], layer.activation,
                                      layer.stride, layer.padding, following.pool if pooled else 1))
            i += 2 if pooled else 1
            continue
        fast.append(_fast_layer(layer))
        i += 1
    return fast


def _fast_operation(op):
    """A bare convolution or BatchNorm (a ResNet's layers) or a position embedding → its tuned twin on the same
    arrays; others as they are."""
    if type(op) is reference_attention.PositionEmbedding:
        return fast_attention.PositionEmbedding(op.params["E"])
    if type(op) is reference_conv.Conv2D:
        return fast_conv.Conv2D(op.params["W"], op.stride, op.padding)
    if type(op) is reference_layers.BatchNorm:
        return fast_norm.BatchNorm(op.params["gamma"], op.params["beta"], op.state["moving_mean"],
                                   op.state["moving_variance"], op.momentum, op.epsilon)
    return op


def _fast_layer(layer: Layer) -> Layer:
    if isinstance(layer, Residual):
        layer.main, layer.shortcut = _fast_layers(layer.main), _fast_layers(layer.shortcut)
        return layer
    if type(layer) is reference_conv.Conv2DTransposeLayer:
        op = layer.operations[0]
        return fast_conv.Conv2DTransposeLayer(layer.name, op.params["W"], layer.operations[1].params["b"],
                                              layer.activation, layer.stride)
    if type(layer) is reference_recurrent.BidirectionalLSTMLayer:
        return fast_recurrent.BidirectionalLSTMLayer(layer.name, *layer.directions().values(), layer.return_sequences)
    if type(layer) in RECURRENT_LAYERS:
        cell = layer.operations[0]
        return RECURRENT_LAYERS[type(layer)](layer.name, cell.params["W"], cell.params["U"], cell.params["b"],
                                             cell.return_sequences)
    if isinstance(layer, Dense) and layer.activation == "sigmoid":
        layer.operations[-1] = fast_ops.Sigmoid()
    layer.operations = [_fast_operation(op) for op in layer.operations]
    return layer
