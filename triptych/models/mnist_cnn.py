"""The standard Keras MNIST convnet (also d2l's LeNet chapter in spirit)."""
from triptych import options
from triptych.canonical import conv_output_size, dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model


def feature_map(config) -> tuple[int, int, int]:
    """(h, w, channels) of the feature map the flatten reads, after both conv → pool blocks: each side
    ⌊(⌊(s − k + 1) / p⌋ − k + 1) / p⌋ (5 × 5 × 64 for the default 28 × 28)."""
    k, p = config["kernel_size"], config["pool_size"]
    h, w = (conv_output_size(conv_output_size(s, k, p), k, p) for s in config["image_size"])
    return h, w, config["filters"][-1]


def flatten_size(config) -> int:
    """Features after the flatten, h · w · channels (1600 by default): the dense layer's inputs."""
    h, w, channels = feature_map(config)
    return h * w * channels


def layout(config):
    k, (f1, f2) = config["kernel_size"], config["filters"]
    out = {"conv1.W": ((k, k, 1, f1), "first convolution kernel (kh, kw, in, out)"),
           "conv1.b": ((f1,), "first convolution bias"),
           "conv2.W": ((k, k, f1, f2), "second convolution kernel (kh, kw, in, out)"),
           "conv2.b": ((f2,), "second convolution bias")}
    dense(out, "output", flatten_size(config), config["num_classes"], "classifier", "; rows in (H, W, C) flatten order")
    return out


def flops(config, seq_len=None):
    """2 · (h1·w1·k²·f1 + h2·w2·k²·f1·f2 + flat·classes) per sample (h1, h2: the sides after each convolution)."""
    k, p, (f1, f2) = config["kernel_size"], config["pool_size"], config["filters"]
    h1, w1 = (s - k + 1 for s in config["image_size"])
    h2, w2 = h1 // p - k + 1, w1 // p - k + 1
    return 2 * (h1 * w1 * k * k * f1 + h2 * w2 * k * k * f1 * f2 + flatten_size(config) * config["num_classes"])


def _check(config):
    if min(feature_map(config)[:2]) < 1:
        raise ValueError(f"model 'mnist_cnn': kernel_size {config['kernel_size']} and pool_size "
                         f"{config['pool_size']} leave no pixels of a {config['image_size']} image")
    return config


register_model(ModelSpec(
    name="mnist_cnn",
    task="classification",
    description="conv 32@3×3 relu → maxpool 2 → conv 64@3×3 relu → maxpool 2 → flatten → "
                "dropout 0.5 → dense 10, softmax cross-entropy, Adam",
    arch=dict(image_size=(28, 28), filters=(32, 64), kernel_size=3, pool_size=2, dropout=0.5, num_classes=10),
    rules=dict(image_size=options.size_pair(1), filters=options.int_tuple(1, 2, 2), kernel_size=options.integer(1),
               pool_size=options.integer(1), dropout=options.fraction(), num_classes=options.integer(2)),
    training=dict(epochs=12, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: tuple(config["image_size"]),
    layout=lambda config: layout(_check(config)),
    data=mnist_source(full_epochs=5),
    parity=dict(n=16, batch_size=4, epochs=13, lr=1e-3, optimizer="adam", overrides=dict(dropout=0.0)),
    bench=dict(batch_size=128),
    flops=flops,
    teaches=("convolution, max-pooling and dropout on images; channels-last (Keras, scratch) against channels-first "
             "(torch), and why the dense rows after a flatten must be permuted; a vectorised convolution and its "
             "backward pass"),
    origin="the Keras MNIST convnet example; d2l ch. 7 (convolutional networks); Weidman ch. 5 (convolutions)",
    order=40,
))
