"""A small ResNet on MNIST: BatchNorm, residual additions, stride-2 'same' downsampling, global average pooling."""
from triptych import options
from triptych.canonical import batchnorm, conv_size, dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model


def blocks(config) -> list[tuple[str, int, int, int]]:
    """(name, in channels, out channels, stride) of each residual block: the first keeps the stem's width at
    stride 1, every later one changes width at stride 2 (16→16, 16→32, 32→64 by default)."""
    widths = config["filters"]
    return [(f"block{i}", c_in, c_out, 1 if i == 1 else 2)
            for i, (c_in, c_out) in enumerate(zip((widths[0], *widths[:-1]), widths), start=1)]


def needs_projection(c_in: int, c_out: int, stride: int) -> bool:
    """A block's shortcut is the identity unless the shape changes: then a 1×1 conv of stride s + BatchNorm."""
    return stride != 1 or c_in != c_out


def layout(config):
    k, stem = config["kernel_size"], config["filters"][0]
    out = {"conv1.W": ((k, k, 1, stem), "stem convolution kernel (kh, kw, in, out), no bias")}
    batchnorm(out, "bn1", stem, "stem")
    for name, c_in, c_out, stride in blocks(config):
        out[f"{name}.conv1.W"] = ((k, k, c_in, c_out), f"{name} first convolution kernel (stride {stride}), no bias")
        batchnorm(out, f"{name}.bn1", c_out, f"{name} first")
        out[f"{name}.conv2.W"] = ((k, k, c_out, c_out), f"{name} second convolution kernel, no bias")
        batchnorm(out, f"{name}.bn2", c_out, f"{name} second")
        if needs_projection(c_in, c_out, stride):
            out[f"{name}.shortcut.W"] = ((1, 1, c_in, c_out), f"{name} shortcut 1×1 convolution (stride {stride})")
            batchnorm(out, f"{name}.shortcut_bn", c_out, f"{name} shortcut")
    dense(out, "output", config["filters"][-1], config["num_classes"], "classifier on the pooled features")
    return out


def flops(config, seq_len=None):
    """2 · Σ over the convolutions of (output pixels · k² · in · out), plus the classifier's 2 · C · classes
    (BatchNorm, additions and the pooling are not counted)."""
    k, (h, w) = config["kernel_size"], config["image_size"]
    total = h * w * k * k * 1 * config["filters"][0]
    for _, c_in, c_out, stride in blocks(config):
        h2, w2 = conv_size(h, k, stride, "same"), conv_size(w, k, stride, "same")
        total += h2 * w2 * k * k * (c_in + c_out) * c_out
        if needs_projection(c_in, c_out, stride):
            total += h2 * w2 * c_in * c_out
        h, w = h2, w2
    return 2 * (total + config["filters"][-1] * config["num_classes"])


register_model(ModelSpec(
    name="resnet",
    task="classification",
    description="conv 3×3 16 → BatchNorm → ReLU → residual blocks 16, 32 (stride 2), 64 (stride 2) → global "
                "average pool → dense 10, softmax cross-entropy, Adam",
    # BatchNorm: momentum in Keras's sense (moving ← momentum·moving + (1 − momentum)·batch; torch's momentum is
    # 1 − this, 0.1), one epsilon in all three (1e-5, torch's default; Keras's own default is 1e-3)
    arch=dict(image_size=(28, 28), filters=(16, 32, 64), kernel_size=3, bn_momentum=0.9, bn_epsilon=1e-5,
              num_classes=10),
    rules=dict(image_size=options.size_pair(1), filters=options.int_tuple(1, 1), kernel_size=options.integer(1),
               bn_momentum=options.fraction(), bn_epsilon=options.real(0.0, low_open=True),
               num_classes=options.integer(2)),
    training=dict(epochs=4, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: tuple(config["image_size"]),
    layout=layout,
    data=mnist_source(full_epochs=4),
    parity=dict(n=8, batch_size=4, epochs=25, lr=1e-3, optimizer="adam",
                overrides=dict(image_size=(8, 8), filters=(3, 4))),
    bench=dict(batch_size=128),
    flops=flops,
    teaches=("BatchNorm in training mode (batch statistics) and in inference mode (moving statistics), with its "
             "moving mean and variance as non-trainable state; residual additions; stride-2 'same' padding (the odd "
             "pixel after, torch needs an explicit pad); global average pooling; torch's momentum 0.1 = Keras's 0.9, "
             "and torch's unbiased running variance against Keras's biased one"),
    # BatchNorm's moving statistics lag the weights: after 1 epoch on the sample (31 steps) every framework's
    # inference-mode accuracy is chance (torch: 10.0 %, 68.6 % in training mode), after 2 it is 81.6 %, after 3 94.9 %
    min_epochs=3,
    origin="He et al. 2015 (deep residual learning); d2l ch. 8.5 (batch normalization) and 8.6 (ResNet)",
    order=110,
))
