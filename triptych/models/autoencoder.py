"""A convolutional autoencoder on MNIST: strided convolutions down to a 32-number code, transposed convolutions back."""
import dataclasses

from triptych import options
from triptych.canonical import conv_size, dense
from triptych.experiments import mnist_source
from triptych.registry import ModelSpec, register_model


def feature_map(config) -> tuple[int, int, int]:
    """(h, w, channels) after the two stride-2 'same' convolutions: ⌈⌈s / 2⌉ / 2⌉ (7 × 7 × 32 for 28 × 28)."""
    k = config["kernel_size"]
    h, w = (conv_size(conv_size(s, k, 2, "same"), k, 2, "same") for s in config["image_size"])
    return h, w, config["filters"][1]


def layout(config):
    k, (f1, f2), code = config["kernel_size"], config["filters"], config["code_size"]
    h, w, c = feature_map(config)
    flat = h * w * c
    out = {"enc1.W": ((k, k, 1, f1), "first convolution kernel (kh, kw, in, out), stride 2"),
           "enc1.b": ((f1,), "first convolution bias"),
           "enc2.W": ((k, k, f1, f2), "second convolution kernel (kh, kw, in, out), stride 2"),
           "enc2.b": ((f2,), "second convolution bias")}
    dense(out, "code", flat, code, "the code", "; rows in (H, W, C) flatten order")
    out["expand.W"] = ((code, flat), "code → feature map kernel (in, out); columns in (H, W, C) order")
    out["expand.b"] = ((flat,), "code → feature map bias, in (H, W, C) order")
    out["dec1.W"] = ((k, k, f1, f2), "first transposed convolution kernel (kh, kw, out, in), stride 2")
    out["dec1.b"] = ((f1,), "first transposed convolution bias")
    out["dec2.W"] = ((k, k, 1, f1), "second transposed convolution kernel (kh, kw, out, in), stride 2")
    out["dec2.b"] = ((1,), "second transposed convolution bias")
    return out


def flops(config, seq_len=None):
    """2 · (the two convolutions + the two dense layers + the two transposed convolutions) per sample; a transposed
    convolution costs its input pixels · k² · in · out, as the convolution it is the adjoint of."""
    k, (f1, f2), code = config["kernel_size"], config["filters"], config["code_size"]
    (h, w), (h2, w2, _) = config["image_size"], feature_map(config)
    h1, w1 = conv_size(h, k, 2, "same"), conv_size(w, k, 2, "same")
    convs = h1 * w1 * k * k * f1 + h2 * w2 * k * k * f1 * f2
    return 2 * (2 * convs + 2 * h2 * w2 * f2 * code)


def _check(config):
    h, w = config["image_size"]
    if h % 4 or w % 4:
        raise ValueError(f"model 'autoencoder': image_size {config['image_size']} must be a multiple of 4 on each side "
                         f"(two stride-2 convolutions down, two stride-2 transposed convolutions back)")
    return config


def _images_as_targets(source):
    """MNIST with the images as their own targets (the labels dropped)."""
    def load(data, quick, seed):
        X_train, _, X_test, _, text, overrides = source.load(data, quick, seed)
        return X_train, X_train, X_test, X_test, text, overrides
    return dataclasses.replace(source, load=load, description="MNIST digits (the images are the targets)")


register_model(ModelSpec(
    name="autoencoder",
    task="reconstruction",
    description="conv 3×3/2 16 relu → conv 3×3/2 32 relu → dense 32 (the code) → dense 32·7·7 relu → transposed conv "
                "3×3/2 16 relu → transposed conv 3×3/2 1 sigmoid, MSE on pixels, Adam",
    arch=dict(image_size=(28, 28), filters=(16, 32), kernel_size=3, code_size=32),
    rules=dict(image_size=options.size_pair(4), filters=options.int_tuple(1, 2, 2), kernel_size=options.integer(1),
               code_size=options.integer(1)),
    training=dict(epochs=10, batch_size=128, lr=1e-3, optimizer="adam", seed=0, eval_every=None),
    input_shape=lambda config: tuple(config["image_size"]),
    layout=lambda config: layout(_check(config)),
    data=_images_as_targets(mnist_source(full_epochs=5)),
    parity=dict(n=4, batch_size=2, epochs=25, lr=1e-3, optimizer="adam",
                overrides=dict(image_size=(8, 8), filters=(2, 3), code_size=4)),
    bench=dict(batch_size=128),
    flops=flops,
    teaches=("reconstruction (the target is the input); transposed convolution as the adjoint of a convolution, its "
             "kernel layouts (torch (in, out, kh, kw), Keras (kh, kw, out, in)), and why torch's padding=1, "
             "output_padding=1 is Keras's padding='same' shifted by one pixel"),
    origin="Saitoh, Deep Learning from Scratch (ch. 7 ends with an autoencoder); the Keras convolutional autoencoder "
           "example",
    order=120,
))
