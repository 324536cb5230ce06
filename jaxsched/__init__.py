"""jaxsched: learning-rate schedules for JAX and Optax as pure, jittable, vmappable pytrees.

Every schedule is a frozen dataclass registered as a JAX pytree and callable
on a step: ``optax.sgd(jaxsched.poly(...))`` works, and ``jax.vmap`` maps over
any of its hyperparameters, step counts and boundaries included.

Example:
  >>> import jax, jax.numpy as jnp, jaxsched
  >>> rates = jaxsched.grid(jaxsched.cosine, init_value=[0.1, 0.3], decay_steps=[100, 1000])
  >>> jax.jit(jax.vmap(lambda s: s(50)))(rates).shape
  (4,)
"""

from jaxsched._base import Schedule
from jaxsched._batch import grid, stack
from jaxsched._compose import Join, Switch, Warmup, join, switch, warmup
from jaxsched._cosine import Cosine, CosineRestarts, cosine, cosine_restarts
from jaxsched._cycles import Cyclic, OneCycle, cyclic, one_cycle
from jaxsched._decay import (
    Constant,
    Exponential,
    InverseTime,
    MultiStep,
    Piecewise,
    Poly,
    StepDecay,
    constant,
    exponential,
    inverse_time,
    linear,
    multistep,
    piecewise,
    poly,
    step,
)
from jaxsched._interpolate import PiecewiseInterpolate, piecewise_interpolate
from jaxsched._modern import WSD, InverseSqrt, Rex, inverse_sqrt, rex, wsd
from jaxsched._plateau import Plateau, PlateauState, plateau, plateau_transform
from jaxsched._restarts import Restarts, restarts
from jaxsched._spec import from_dict, parse

__version__ = "0.1.0"

__all__ = [
    "WSD",
    "Constant",
    "Cosine",
    "CosineRestarts",
    "Cyclic",
    "Exponential",
    "InverseSqrt",
    "InverseTime",
    "Join",
    "MultiStep",
    "OneCycle",
    "Piecewise",
    "PiecewiseInterpolate",
    "Plateau",
    "PlateauState",
    "Poly",
    "Restarts",
    "Rex",
    "Schedule",
    "StepDecay",
    "Switch",
    "Warmup",
    "compat",
    "constant",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "exponential",
    "from_dict",
    "grid",
    "inverse_sqrt",
    "inverse_time",
    "join",
    "linear",
    "multistep",
    "one_cycle",
    "parse",
    "piecewise",
    "piecewise_interpolate",
    "plateau",
    "plateau_transform",
    "poly",
    "restarts",
    "rex",
    "stack",
    "step",
    "switch",
    "warmup",
    "wsd",
]

from jaxsched import compat
