"""The MNIST-1D reference models in Flax NNX, sized from the data.

Greydanus, *Scaling down Deep Learning with MNIST-1D* (2020/2024): an MLP with
two hidden layers of 100 units, and a small 1-D CNN (three stride-2
convolutions of 25 channels, then a linear classifier). Both take any input
shape and number of classes, so they train on any dataset a user points at.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxsched.train._compiler import compiler_options

__all__ = ["CNN", "MLP", "ModelFactory", "build"]

#: ``model(input_shape, n_classes, rngs) -> nnx.Module`` (logits ``[batch, n_classes]``).
ModelFactory = Callable[[tuple[int, ...], int, nnx.Rngs], nnx.Module]


class MLP(nnx.Module):
    """Two hidden ReLU layers of ``hidden`` units; inputs are flattened."""

    def __init__(
        self, input_shape: tuple[int, ...], n_classes: int, rngs: nnx.Rngs, hidden: int = 100
    ):
        features = math.prod(input_shape)
        self.layers = nnx.List(
            [
                nnx.Linear(features, hidden, rngs=rngs),
                nnx.Linear(hidden, hidden, rngs=rngs),
                nnx.Linear(hidden, n_classes, rngs=rngs),
            ]
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


class CNN(nnx.Module):
    """Three ReLU convolutions (kernels 5, 3, 3; stride 2; padding 1), then a linear layer.

    Inputs are ``[batch, length]`` (one channel) or ``[batch, length, channels]``.
    The parameters are those of ``nnx.Conv``; the forward pass computes the
    convolutions as a gather of patches and one matrix product each, which
    ``vmap`` over configurations keeps a batched matmul (a vmapped ``lax.conv``
    becomes a grouped convolution, several times slower on CPU).
    """

    def __init__(
        self, input_shape: tuple[int, ...], n_classes: int, rngs: nnx.Rngs, channels: int = 25
    ):
        if len(input_shape) not in (1, 2):
            raise ValueError(
                f"cnn: inputs must be [length] or [length, channels], got {input_shape}"
            )
        length, in_channels = input_shape[0], (input_shape[1] if len(input_shape) == 2 else 1)
        self.convs = nnx.List()
        for kernel in (5, 3, 3):
            self.convs.append(
                nnx.Conv(in_channels, channels, kernel, strides=2, padding=((1, 1),), rngs=rngs)
            )
            in_channels = channels
            length = (length + 2 - kernel) // 2 + 1
        if length < 1:
            raise ValueError(f"cnn: inputs of length {input_shape[0]} are too short (need >= 3)")
        self.head = nnx.Linear(length * channels, n_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        if x.ndim == 2:
            x = x[..., None]
        for conv in self.convs:
            x = jax.nn.relu(_strided_conv(conv, x))
        return self.head(x.reshape(x.shape[0], -1))


def _strided_conv(conv: nnx.Conv, x: jax.Array) -> jax.Array:
    """``conv(x)`` for the CNN's 1-D stride-2, padding-1 convolutions, as patches @ kernel."""
    kernel = conv.kernel[...]  # [size, in, out]
    size = kernel.shape[0]
    padded = jnp.pad(x, ((0, 0), (1, 1), (0, 0)))
    length = (x.shape[1] + 2 - size) // 2 + 1
    stop = 2 * (length - 1) + 1
    patches = jnp.stack([padded[:, i : i + stop : 2] for i in range(size)], axis=2)
    return jnp.einsum("blkc,kco->blo", patches, kernel) + conv.bias[...]


BUILTIN: dict[str, ModelFactory] = {"mlp": MLP, "cnn": CNN}


def build(
    model: str | ModelFactory, input_shape: tuple[int, ...], n_classes: int, seed: int | jax.Array
) -> nnx.Module:
    """A model by name (``"mlp"``, ``"cnn"``) or from ``model(input_shape, n_classes, rngs)``.

    The model's state must be all ``nnx.Param``: layers with other state
    (``nnx.BatchNorm``, ``nnx.Dropout``) are refused, since the trainer neither
    updates batch statistics nor draws dropout keys.

    Example:
      >>> from jaxsched.train.models import build
      >>> import jax.numpy as jnp
      >>> build("cnn", (40,), 10, seed=0)(jnp.zeros((2, 40))).shape
      (2, 10)
    """
    if isinstance(model, str):
        if model not in BUILTIN:
            raise ValueError(
                f"unknown model {model!r}: use one of {', '.join(BUILTIN)} or a function"
            )
        model = BUILTIN[model]
    elif isinstance(model, nnx.Module):
        raise ValueError(
            f"model must be a name or a function returning an nnx.Module, got a "
            f"{type(model).__name__} instance: pass the class, or a function "
            "(input_shape, n_classes, rngs) -> module, so that every seed builds its own"
        )
    elif not callable(model):
        raise ValueError(
            f"model must be a name or a function returning an nnx.Module, got {model!r}"
        )
    module = model(tuple(input_shape), int(n_classes), nnx.Rngs(seed))
    if not isinstance(module, nnx.Module):
        raise ValueError(f"model function returned {type(module).__name__}, not an nnx.Module")
    others = sorted(
        {
            type(v).__name__
            for _, v in nnx.iter_graph(module)
            if isinstance(v, nnx.Variable) and not isinstance(v, nnx.Param)
        }
    )
    if others:
        raise ValueError(
            f"the model holds state other than nnx.Param ({', '.join(others)}: e.g. "
            "BatchNorm's statistics, Dropout's random keys); the trainer trains models whose "
            "state is all parameters, the same in training and evaluation"
        )
    params = jax.tree_util.tree_leaves(nnx.state(module, nnx.Param))
    if not params:
        raise ValueError("the model has no nnx.Param: there is nothing to train")
    not_float = sorted({str(p.dtype) for p in params if not jnp.issubdtype(p.dtype, jnp.floating)})
    if not_float:
        raise ValueError(
            f"the model has nnx.Param of dtype {', '.join(not_float)}: weights are trained by "
            f"gradients, so they must be floating point"
        )
    out = jax.eval_shape(lambda m: m(jnp.zeros((2, *input_shape))), module)
    if out.shape != (2, n_classes) or not jnp.issubdtype(out.dtype, jnp.floating):
        raise ValueError(
            f"model gives outputs of shape {out.shape[1:]} and dtype {out.dtype} per example; "
            f"expected logits of shape ({n_classes},), floating point"
        )
    return module


def initial_states(
    model: str | ModelFactory, input_shape: tuple[int, ...], n_classes: int, seeds: list[int]
) -> tuple[nnx.GraphDef, nnx.State]:
    """The model's graph and the initial weights of every seed, stacked ``[seed, ...]``.

    The weights equal ``nnx.state(build(model, input_shape, n_classes, seed))``
    bit for bit; they are built by one jitted function (compiled once for all
    seeds) instead of op by op, which on a CPU takes seconds for a small model.

    Example:
      >>> from jaxsched.train.models import initial_states
      >>> graphdef, states = initial_states("mlp", (40,), 10, [0, 1])
      >>> states["layers"][0]["kernel"][...].shape
      (2, 40, 100)
    """
    graphdef, init, _ = _init_for(model, input_shape, n_classes)
    states = [init(jax.random.key(seed)) for seed in seeds]
    # Stacked on the host: jnp.stack would compile a program per leaf.
    stacked = jax.tree_util.tree_map(lambda *x: np.stack([np.asarray(a) for a in x]), *states)
    return graphdef, jax.device_put(stacked)


def weight_count(model: str | ModelFactory, input_shape: tuple[int, ...], n_classes: int) -> int:
    """How many numbers the model's weights hold, found without computing any.

    Example:
      >>> from jaxsched.train.models import weight_count
      >>> weight_count("mlp", (40,), 10)  # 40*100 + 100 + 100*100 + 100 + 100*10 + 10
      15210
    """
    return _init_for(model, input_shape, n_classes)[2]


def _init_for(model: str | ModelFactory, input_shape: tuple[int, ...], n_classes: int):
    """`_init_fn`'s graph, initializer and weight count; a built-in model's cached."""
    input_shape, n_classes = tuple(input_shape), int(n_classes)
    if isinstance(model, str):
        return _compiled_init(model, input_shape, n_classes)
    return _init_fn(model, input_shape, n_classes)


def _init_fn(model: str | ModelFactory, input_shape: tuple[int, ...], n_classes: int):
    """The model's graph, a jitted ``key -> weights`` and the number of weights.

    It runs once per seed, so on a CPU it is compiled with less optimization:
    half the compile time (0.4 s instead of 0.8 s for the MLP), the same values
    (the tests compare them with `build`'s bit for bit). Other backends, where
    that is not tested, compile it as usual (`jaxsched.train._compiler`).
    """
    abstract = nnx.eval_shape(lambda: build(model, input_shape, n_classes, 0))
    n_weights = sum(x.size for x in jax.tree_util.tree_leaves(nnx.state(abstract)))
    init = jax.jit(
        lambda key: nnx.state(build(model, input_shape, n_classes, key)),
        compiler_options=compiler_options(optimization_level=1),
    )
    return nnx.graphdef(abstract), init, n_weights


# A built-in model's initialization is compiled once per process and shape (it
# takes most of a second on a CPU); a user's function is traced afresh every
# time, since it may close over values that change between calls.
_compiled_init = functools.lru_cache(maxsize=16)(_init_fn)
