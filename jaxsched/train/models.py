"""The MNIST-1D reference models in Flax NNX, sized from the data.

Greydanus, *Scaling down Deep Learning with MNIST-1D* (2020/2024): an MLP with
two hidden layers of 100 units, and a small 1-D CNN (three stride-2
convolutions of 25 channels, then a linear classifier). Both take any input
shape and number of outputs, so they train on any dataset a user points at.

A user's model is a function ``model(input_shape, n_outputs, rngs)``
returning a Flax NNX module: ``n_outputs`` is the number of classes for
classification, the number of target values per example for regression. Its
``nnx.Param`` are trained; any other state (``nnx.BatchNorm``'s statistics,
``nnx.Dropout``'s random stream) is carried by each run: the model is called
in training mode (``module.train()``) for training and in evaluation mode
(``module.eval()``) for evaluation. A `Network` holds both modes' graphs.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxsched.train._compiler import compiler_options

__all__ = ["CNN", "MLP", "ModelFactory", "Network", "build"]

#: ``model(input_shape, n_outputs, rngs) -> nnx.Module`` (outputs ``[batch, ...]``).
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
    The parameters are those of ``nnx.Conv`` and ``nnx.Linear``; the forward pass
    computes each convolution as one matrix product, kernel @ patches, on
    activations laid out ``[channels, length, batch]`` (`_strided_conv`): ``vmap``
    over configurations keeps it a batched matmul (a vmapped ``lax.conv`` becomes a
    grouped convolution, several times slower on CPU), and the products' long axis
    (positions x batch) is the one a CPU vectorises.
    """

    #: XLA's CPU fusion emitters vectorise the gather of patches (a concatenation)
    #: that its older emitters copy element by element: the trainer compiles this
    #: model's programs with them (`jaxsched.train._compiler`).
    xla_cpu_fusion_emitters = True

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
        h = jnp.transpose(x, (2, 1, 0))  # [channels, length, batch]
        for conv in self.convs:
            h = jax.nn.relu(_strided_conv(conv, h))
        channels, length, batch = h.shape
        features = h.reshape(channels * length, batch)
        # The head's kernel reads the features in nnx's order, position-major.
        kernel = self.head.kernel[...].reshape(length, channels, -1).transpose(1, 0, 2)
        kernel = kernel.reshape(channels * length, -1)
        logits = jax.lax.dot_general(features, kernel, (((0,), (0,)), ((), ())))  # [batch, n]
        return logits + self.head.bias[...]


def _strided_conv(conv: nnx.Conv, h: jax.Array) -> jax.Array:
    r"""``conv`` (1-D, stride 2, padding 1) of activations ``h[channels, length, batch]``,
    as ``[out, length', batch]``: :math:`y_{o,l,b} = \beta_o + \sum_{c,i} W_{i,c,o}\,
    \tilde h_{c,\,2l+i,\,b}`, with :math:`\tilde h` padded by one zero at each end, computed
    as kernel ``[out, channels x size]`` @ patches ``[channels x size, length' x batch]``.

    Example:
      >>> from flax import nnx
      >>> conv = nnx.Conv(2, 3, 3, strides=2, padding=((1, 1),), rngs=nnx.Rngs(0))
      >>> x = jax.random.normal(jax.random.key(0), (4, 9, 2))  # [batch, length, channels]
      >>> y = _strided_conv(conv, jnp.transpose(x, (2, 1, 0)))
      >>> bool(jnp.allclose(jnp.transpose(y, (2, 1, 0)), conv(x), atol=1e-6))
      True
    """
    kernel = conv.kernel[...]  # [size, channels, out]
    size, channels, out = kernel.shape
    padded = jnp.pad(h, ((0, 0), (1, 1), (0, 0)))
    length = (h.shape[1] + 2 - size) // 2 + 1
    stop = 2 * (length - 1) + 1
    patches = jnp.stack([padded[:, i : i + stop : 2] for i in range(size)], axis=1)
    weights = jnp.transpose(kernel, (2, 1, 0)).reshape(out, channels * size)
    y = _matmul(weights, patches.reshape(channels * size, -1))
    return y.reshape(out, length, -1) + conv.bias[...][:, None, None]


def _matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b`` as one ``dot_general`` of ``a``'s last axis with ``b``'s first: XLA keeps
    the product's layout, where ``jnp.einsum`` or ``@`` under ``vmap`` and ``grad`` may
    transpose it into a slow copy."""
    return jax.lax.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())))


BUILTIN: dict[str, ModelFactory] = {"mlp": MLP, "cnn": CNN}


def build(
    model: str | ModelFactory, input_shape: tuple[int, ...], n_outputs: int, seed: int | jax.Array
) -> nnx.Module:
    """A model by name (``"mlp"``, ``"cnn"``) or from ``model(input_shape, n_outputs, rngs)``,
    its random streams seeded with ``seed``.

    The model must have floating ``nnx.Param`` and give floating outputs with
    the batch as their first axis, in training mode (``nnx.Dropout`` must be
    built with ``rngs``, so that it draws its own keys).

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
            "(input_shape, n_outputs, rngs) -> module, so that every seed builds its own"
        )
    elif not callable(model):
        raise ValueError(
            f"model must be a name or a function returning an nnx.Module, got {model!r}"
        )
    module = model(tuple(input_shape), int(n_outputs), nnx.Rngs(seed))
    if not isinstance(module, nnx.Module):
        raise ValueError(f"model function returned {type(module).__name__}, not an nnx.Module")
    params = jax.tree_util.tree_leaves(nnx.state(module, nnx.Param))
    if not params:
        raise ValueError("the model has no nnx.Param: there is nothing to train")
    not_float = sorted({str(p.dtype) for p in params if not jnp.issubdtype(p.dtype, jnp.floating)})
    if not_float:
        raise ValueError(
            f"the model has nnx.Param of dtype {', '.join(not_float)}: weights are trained by "
            f"gradients, so they must be floating point"
        )
    module.train()
    try:
        out = jax.eval_shape(lambda m: m(jnp.zeros((2, *input_shape))), module)
    except Exception as e:  # the user's module, called as the trainer calls it
        detail = " ".join(str(e).split())[:300]
        hint = (
            "; build nnx.Dropout with rngs=rngs so that it draws its own keys"
            if "rngs" in str(e) or "Dropout" in str(e)
            else ""
        )
        raise ValueError(
            f"the model failed on a batch of inputs {list((2, *input_shape))} in training "
            f"mode ({type(e).__name__}: {detail}){hint}"
        ) from None
    if (
        not isinstance(out, jax.ShapeDtypeStruct)
        or out.shape[:1] != (2,)
        or not jnp.issubdtype(out.dtype, jnp.floating)
    ):
        got = f"{out.dtype}{list(out.shape)}" if hasattr(out, "shape") else type(out).__name__
        raise ValueError(
            f"the model must give one array of floating outputs [batch, ...] for a batch of "
            f"inputs, got {got} for a batch of 2"
        )
    return module


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    """A model's graph in training and evaluation mode, applied to weights given apart.

    A run's model is ``(params, state)``: ``params`` its ``nnx.Param``
    (trained), ``state`` everything else (batch statistics, random streams),
    with random keys held as raw key data (``jax.random.key_data``) so that
    every leaf is a plain array that checkpoints and devices take as it is.

    Example:
      >>> import jax.numpy as jnp
      >>> net, params, state = initial_states("mlp", (40,), 10, [0, 1])
      >>> out, _ = net.apply(jax.tree_util.tree_map(lambda a: a[0], params), {}, jnp.zeros((3, 40)), train=False)
      >>> out.shape, net.has_state
      ((3, 10), False)
    """

    train_graph: nnx.GraphDef
    eval_graph: nnx.GraphDef
    #: Per leaf of ``state``, whether it is a random key (held as key data).
    key_leaves: tuple[bool, ...]
    #: Whether the model's class asks for XLA's CPU fusion emitters
    #: (``xla_cpu_fusion_emitters = True``, as `CNN` does; `jaxsched.train._compiler`).
    fusion_emitters: bool = False

    def apply(self, params, state, x: jax.Array, train: bool):
        """``(outputs, new_state)`` of the model on inputs ``x`` (training or evaluation mode)."""
        graph = self.train_graph if train else self.eval_graph
        module = nnx.merge(graph, params, self._keys(state))
        outputs = module(x)
        return outputs, (self.carried(nnx.state(module, nnx.Not(nnx.Param))) if train else state)

    def module(self, params, state) -> nnx.Module:
        """The model in evaluation mode, holding ``params`` and ``state`` (one run's)."""
        return nnx.merge(self.eval_graph, params, self._keys(state))

    @property
    def has_state(self) -> bool:
        """Whether the model holds state other than its weights."""
        return bool(self.key_leaves)

    def carried(self, state):
        """``state`` with its random keys as key data."""
        return jax.tree_util.tree_map(_key_data, state)

    def _keys(self, state):
        leaves, tree = jax.tree_util.tree_flatten(state)
        leaves = [
            jax.random.wrap_key_data(x) if is_key else x
            for x, is_key in zip(leaves, self.key_leaves, strict=True)
        ]
        return jax.tree_util.tree_unflatten(tree, leaves)


def _key_data(x):
    if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(x)
    return x


def initial_states(
    model: str | ModelFactory, input_shape: tuple[int, ...], n_outputs: int, seeds: list[int]
) -> tuple[Network, nnx.State, nnx.State]:
    """The model's `Network` and the initial weights and state of every seed, stacked
    ``[seed, ...]``.

    They equal ``nnx.state(build(model, input_shape, n_outputs, seed), nnx.Param,
    ...)`` bit for bit (keys as key data); they are built by one jitted
    function (compiled once for all seeds) instead of op by op, which on a CPU
    takes seconds for a small model.

    Example:
      >>> from jaxsched.train.models import initial_states
      >>> network, params, state = initial_states("mlp", (40,), 10, [0, 1])
      >>> params["layers"][0]["kernel"][...].shape
      (2, 40, 100)
    """
    network, init, _ = _init_for(model, input_shape, n_outputs)
    states = [init(jax.random.key(seed)) for seed in seeds]
    # Stacked on the host: jnp.stack would compile a program per leaf.
    stacked = jax.tree_util.tree_map(
        lambda *x: np.stack([np.asarray(a) for a in x]), *[network.carried(s) for s in states]
    )
    params, state = jax.device_put(stacked)
    return network, params, state


def weight_count(model: str | ModelFactory, input_shape: tuple[int, ...], n_outputs: int) -> int:
    """How many numbers the model's weights and state hold, found without computing any.

    Example:
      >>> from jaxsched.train.models import weight_count
      >>> weight_count("mlp", (40,), 10)  # 40*100 + 100 + 100*100 + 100 + 100*10 + 10
      15210
    """
    return _init_for(model, input_shape, n_outputs)[2]


def outputs_like(
    model: str | ModelFactory, input_shape: tuple[int, ...], n_outputs: int, batch: int
) -> jax.ShapeDtypeStruct:
    """The shape and dtype of the model's outputs in training mode for a batch of
    ``batch`` inputs, found without computing any.

    Example:
      >>> from jaxsched.train.models import outputs_like
      >>> outputs_like("cnn", (40,), 10, 7).shape
      (7, 10)
    """
    network, (params, state) = abstract_states(model, input_shape, n_outputs)
    x = jax.ShapeDtypeStruct((batch, *input_shape), jnp.float32)
    return jax.eval_shape(lambda *a: network.apply(*a, train=True)[0], params, state, x)


def abstract_states(
    model: str | ModelFactory, input_shape: tuple[int, ...], n_outputs: int
) -> tuple[Network, Any]:
    """The model's `Network` and the shapes of one run's ``(params, state)`` (keys as key
    data), found without computing any."""
    network, init, _ = _init_for(model, input_shape, n_outputs)
    return network, jax.eval_shape(network.carried, jax.eval_shape(init, jax.random.key(0)))


def _init_for(model: str | ModelFactory, input_shape: tuple[int, ...], n_outputs: int):
    """`_init_fn`'s network, initializer and weight count; a built-in model's cached."""
    input_shape, n_outputs = tuple(input_shape), int(n_outputs)
    if isinstance(model, str):
        return _compiled_init(model, input_shape, n_outputs)
    return _init_fn(model, input_shape, n_outputs)


def _init_fn(model: str | ModelFactory, input_shape: tuple[int, ...], n_outputs: int):
    """The model's `Network`, a jitted ``key -> (params, state)`` and the number of values
    they hold.

    It runs once per seed, so on a CPU it is compiled with less optimization:
    half the compile time (0.4 s instead of 0.8 s for the MLP), the same values
    (the tests compare them with `build`'s bit for bit). Other backends, where
    that is not tested, compile it as usual (`jaxsched.train._compiler`).
    """
    abstract = nnx.eval_shape(lambda: build(model, input_shape, n_outputs, 0))
    n_weights = sum(x.size for x in jax.tree_util.tree_leaves(nnx.state(abstract)))
    init = jax.jit(
        lambda key: nnx.state(build(model, input_shape, n_outputs, key), nnx.Param, ...),
        compiler_options=compiler_options(optimization_level=1),
    )
    abstract.train()
    train_graph, _, rest = nnx.split(abstract, nnx.Param, ...)
    abstract.eval()
    eval_graph = nnx.graphdef(abstract)
    key_leaves = tuple(
        jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) for x in jax.tree_util.tree_leaves(rest)
    )
    emitters = bool(getattr(type(abstract), "xla_cpu_fusion_emitters", False))
    return Network(train_graph, eval_graph, key_leaves, emitters), init, n_weights


# A built-in model's initialization is compiled once per process and shape (it
# takes most of a second on a CPU); a user's function is traced afresh every
# time, since it may close over values that change between calls.
_compiled_init = functools.lru_cache(maxsize=16)(_init_fn)
