"""A small post-norm transformer encoder reading MNIST rows as 28 tokens: attention, LayerNorm and exact GELU."""
from triptych import options
from triptych.canonical import dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model

SEQ_LEN = 28  # MNIST rows, one token each


def layout(config):
    """embed (F → d), the position table (max_len, d), per block: attention (query, key without bias, value, out;
    columns [j·k, (j+1)·k) of query/key/value.W and rows of out.W belong to head j, k = d / heads), norm1, ff1,
    ff2, norm2; then the final norm and the classifier."""
    f, d, ff = config["in_features"], config["d_model"], config["ff_units"]
    k = d // config["heads"]
    out = {}
    dense(out, "embed", f, d, "token embedding of each row")
    out["position.E"] = ((config["max_len"], d), "learned position embedding: row t is added to token t")
    for b in range(1, config["blocks"] + 1):
        a = f"block{b}.attention"
        heads = f"{config['heads']} heads of {k} columns side by side"
        out[f"{a}.query.W"] = ((d, d), f"query kernel, {heads} (Keras query kernel (d, h, k) reshaped; torch "
                                       "in_proj_weight rows [0, d) transposed)")
        out[f"{a}.query.b"] = ((d,), "query bias, per head (Keras (h, k) reshaped; torch in_proj_bias[0:d])")
        out[f"{a}.key.W"] = ((d, d), f"key kernel, {heads} (torch in_proj_weight rows [d, 2d) transposed); no key "
                                     "bias: softmax ignores it (Keras's and torch's held at zero)")
        out[f"{a}.value.W"] = ((d, d), f"value kernel, {heads} (torch in_proj_weight rows [2d, 3d) transposed)")
        out[f"{a}.value.b"] = ((d,), "value bias, per head (torch in_proj_bias[2d:3d])")
        out[f"{a}.out.W"] = ((d, d), "output kernel, rows: heads side by side (Keras (h, k, d) reshaped; torch "
                                     "out_proj.weight transposed)")
        out[f"{a}.out.b"] = ((d,), "output bias")
        for name, what in (("norm1", "after the attention residual"),):
            out[f"block{b}.{name}.gamma"] = ((d,), f"LayerNorm scale {what}")
            out[f"block{b}.{name}.beta"] = ((d,), f"LayerNorm shift {what}")
        dense(out, f"block{b}.ff1", d, ff, "feed-forward in (exact GELU after it)")
        dense(out, f"block{b}.ff2", ff, d, "feed-forward out")
        out[f"block{b}.norm2.gamma"] = ((d,), "LayerNorm scale after the feed-forward residual")
        out[f"block{b}.norm2.beta"] = ((d,), "LayerNorm shift after the feed-forward residual")
    out["norm.gamma"] = ((d,), "final LayerNorm scale, on the mean over tokens")
    out["norm.beta"] = ((d,), "final LayerNorm shift")
    dense(out, "output", d, config["num_classes"], "classifier")
    return out


def flops(config, seq_len=None):
    """2 · (T·F·d + blocks·(T·(4d² + 2d·ff) + 2T²d) + d·classes) per sample."""
    t, f, d, ff = seq_len or SEQ_LEN, config["in_features"], config["d_model"], config["ff_units"]
    return 2 * (t * f * d + config["blocks"] * (t * (4 * d * d + 2 * d * ff) + 2 * t * t * d) + d * config["num_classes"])


register_model(ModelSpec(
    name="transformer",
    task="classification",
    description=("28 rows as 28 tokens → dense 28→64 + learned positions → 2 post-norm encoder blocks (4-head "
                 "self-attention, feed-forward 128 with exact GELU, dropout 0.1) → mean over tokens → LayerNorm → "
                 "dense 10, softmax cross-entropy, Adam"),
    arch=dict(in_features=28, d_model=64, heads=4, ff_units=128, blocks=2, max_len=SEQ_LEN, dropout=0.1,
              norm_epsilon=1e-5, num_classes=10),
    rules=dict(in_features=options.integer(1), d_model=options.integer(1), heads=options.integer(1),
               ff_units=options.integer(1), blocks=options.integer(1), max_len=options.integer(1),
               dropout=options.fraction(), norm_epsilon=options.real(0.0, low_open=True),
               num_classes=options.integer(2)),
    training=dict(epochs=10, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: (None, config["in_features"]),
    layout=layout,
    data=mnist_source(full_epochs=10),
    parity=dict(n=8, batch_size=4, epochs=25, lr=1e-3, optimizer="adam",
                overrides=dict(d_model=8, heads=2, ff_units=12, blocks=1, max_len=8, dropout=0.0), seq_len=5),
    bench=dict(batch_size=128, seq_len=SEQ_LEN),
    flops=flops,
    teaches=("scaled dot-product and multi-head self-attention, LayerNorm, exact GELU and a learned position "
             "embedding, post-norm residual blocks; torch's packed in_proj_weight against Keras's per-head kernels, "
             "the two LayerNorm epsilons, the key bias softmax ignores, torch's encoder fast path"),
    origin="d2l ch. 11 (attention and the Transformer)",
    order=97,
))
