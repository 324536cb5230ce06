"""The compiled sweep: one program trains every configuration x seed.

The shape is the "make_train" pattern: the model and the optimizer family are
Python, the batch size and chunk length are array shapes, and everything swept
(the schedule batch, the seeds' weights and batches) is an array argument. A
chunk of ``eval_every`` steps of a block of configurations of one seed is
``jit(vmap_configs(lax.scan(step)))`` (`jaxsched.train.devices`);
configurations of one seed share initial weights and batch indices (one gather
per step, a fair comparison); seeds differ in both. The indices come from the
host (`jaxsched.train.order`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.extend
import jax.numpy as jnp
import optax

from jaxsched._base import Schedule
from jaxsched.train._compiler import compiler_options
from jaxsched.train.models import Network
from jaxsched.train.objective import Objective
from jaxsched.train.shared import SharedLeaves

#: ``optimizer(schedule) -> optax.GradientTransformation``, called with a traced schedule.
OptimizerFactory = Callable[[Schedule], optax.GradientTransformation]


def default_optimizer(lr: Schedule) -> optax.GradientTransformation:
    """SGD with momentum 0.9: the optimizer of `fit` and `lr_find` unless told otherwise."""
    return optax.sgd(lr, momentum=0.9)


def check_optimizer(who: str, optimizer: Any, schedule: Schedule) -> None:
    """Refuse an ``optimizer`` that is not a function of a schedule returning an
    ``optax.GradientTransformation`` (called once with ``schedule``), or whose
    updates do not depend on the schedule: every configuration would train alike,
    while the result reported their different rates."""
    if isinstance(optimizer, optax.GradientTransformation):
        got = f"got an optax {type(optimizer).__name__} itself"
    elif not callable(optimizer):
        got = f"got {optimizer!r}"
    else:
        made = optimizer(schedule)
        if isinstance(made, optax.GradientTransformation):
            if not _updates_use(who, optimizer, schedule):
                raise ValueError(
                    f"{who}: optimizer ignores the learning rate it is given (its updates do "
                    f"not depend on the schedule): build it from it, e.g. lambda lr: optax.sgd(lr)"
                )
            return
        got = f"it returned a {type(made).__name__}"
        if isinstance(made, optax.MultiSteps):
            got += " (use its .gradient_transformation())"
    raise ValueError(
        f"{who}: optimizer must be a function of the learning rate returning an "
        f"optax.GradientTransformation, e.g. lambda lr: optax.adam(lr); {got}"
    )


def _updates_use(who: str, optimizer: OptimizerFactory, schedule: Schedule) -> bool:
    """Whether an update (and its new state) of ``optimizer(schedule)`` on a small
    parameter tree depends on any leaf of ``schedule``, read off the traced program.
    True where it cannot be traced so: the training program will say what is wrong."""
    leaves, tree = jax.tree_util.tree_flatten(schedule)

    def one_update(leaves):
        opt = optimizer(jax.tree_util.tree_unflatten(tree, leaves))
        params = {"kernel": jnp.ones((2, 2)), "bias": jnp.ones(2)}
        return opt.update(params, opt.init(params), params)

    try:
        program = jax.make_jaxpr(one_update)(leaves).jaxpr
    except jax.errors.ConcretizationTypeError:
        raise ValueError(
            f"{who}: optimizer: the schedule it is given is traced (a batch is trained in one "
            f"program), so it cannot become a Python number (float(lr(0))); pass it to optax"
        ) from None
    except Exception:
        return True
    reached = set(program.invars)
    for eqn in program.eqns:
        if any(not isinstance(v, jax.extend.core.Literal) and v in reached for v in eqn.invars):
            reached.update(eqn.outvars)
    return any(not isinstance(v, jax.extend.core.Literal) and v in reached for v in program.outvars)


class Carry(NamedTuple):
    """What a training chunk takes and gives, for every ``[seed, config]`` run."""

    params: Any
    #: The model's other state (batch statistics, random streams; `models.Network`).
    state: Any
    opt_state: Any
    #: The step at which the run diverged (`diverged`), or -1.
    diverged_at: jax.Array
    #: The sum of the chunk's training losses.
    loss_sum: jax.Array
    #: The training loss of step 0, which `diverged` compares later losses with.
    first_loss: jax.Array


def diverged(loss: jax.Array, first_loss: jax.Array, factor: float | None) -> jax.Array:
    """Whether a training loss counts as a divergence: it is not finite, or (with a
    ``factor``) it is more than ``factor`` times a positive loss of step 0.

    >>> diverged(jnp.array([1.0, 25.0, jnp.nan, 25.0]), jnp.array([2.0, 2.0, 2.0, -1.0]), 10.0).tolist()
    [False, True, True, False]
    """
    bad = ~jnp.isfinite(loss)
    if factor is not None:
        bad = bad | ((first_loss > 0) & (loss > factor * first_loss))
    return bad


@dataclasses.dataclass(frozen=True)
class Program:
    """The jitted pieces of one sweep (built once, reused for every chunk)."""

    init: Callable[..., Any]
    chunk: Callable[..., Any]
    evaluate: Callable[..., Any]


def build_program(
    network: Network,
    objective: Objective,
    optimizer: OptimizerFactory,
    divergence_factor: float | None = None,
    shared: SharedLeaves | None = None,
) -> Program:
    """Compile-ready functions over a block of configurations of one seed
    (`jaxsched.train.devices.Blocks`).

    ``init(params, state, schedules, at)`` gives the block's first carry
    (below) from the seed's weights and model state, and the learning rates
    ``[config, len(at)]`` at steps ``at``. ``chunk(carry, schedules, (x_train,
    y_train), indices, start)`` trains ``indices.shape[0]`` steps from step
    ``start``; ``indices`` is ``[step, example]``, the seed's batches
    (`jaxsched.train.order`), shared by the block's configurations (one gather
    per step, a fair comparison). The carry is a `Carry`: ``diverged_at`` is
    the step of the first loss that `diverged` (-1 if none; a chunk that ends
    with non-finite weights but no such loss counts its last step) and
    ``loss_sum`` the sum of the chunk's training losses. ``evaluate(params,
    state, x, y, member)`` takes an `jaxsched.train.evaluation.EvalSet`'s arrays
    and gives, per configuration, the sums ``[loss and each metric, split]``.
    The data are arguments, not constants of the program, so a large data set
    does not slow its compilation. With ``shared`` (`SharedLeaves`), ``schedules``
    is the batch's varying leaves, and the leaves every configuration shares are
    constants of the program.
    """
    loss_fn = training_loss(network, objective)
    schedule_of = (lambda schedule: schedule) if shared is None else shared.rebuild

    def init_one(params, state, schedule):
        opt = optimizer(schedule_of(schedule))
        nan = jnp.float32(jnp.nan)
        return Carry(params, state, opt.init(params), jnp.int32(-1), jnp.float32(0.0), nan)

    def chunk_one(carry, schedule, data, indices, start):
        opt = optimizer(schedule_of(schedule))
        x_train, y_train = data

        def step(carry, inputs):
            params, state, opt_state, diverged_at, loss_sum, first_loss = carry
            t, idx = inputs
            x, y = x_train[idx], y_train[idx]
            loss, params, state, opt_state = update(opt, loss_fn, params, state, opt_state, x, y)
            first_loss = jnp.where(t == 0, loss.astype(jnp.float32), first_loss)
            # Only the loss is checked every step: weights gone non-finite make
            # the next loss non-finite. A diverged configuration trains on,
            # touching no other (vmap keeps them apart), and its metrics from
            # then on are dropped.
            broken = (diverged_at < 0) & diverged(loss, first_loss, divergence_factor)
            diverged_at = jnp.where(broken, t, diverged_at)
            loss_sum = loss_sum + jnp.where(diverged_at < 0, loss, 0.0)
            return Carry(params, state, opt_state, diverged_at, loss_sum, first_loss), None

        carry = carry._replace(loss_sum=jnp.float32(0.0))
        steps = start + jnp.arange(indices.shape[0], dtype=jnp.int32)
        carry = jax.lax.scan(step, carry, (steps, indices))[0]
        # The chunk's last update can leave the weights non-finite with no loss
        # left to show it: that step counts as the divergence.
        broken = (carry.diverged_at < 0) & ~all_finite(carry.params)
        return carry._replace(diverged_at=jnp.where(broken, steps[-1], carry.diverged_at))

    measures = (objective.loss, *(m.fn for m in objective.metrics.values()))

    def evaluate_one(params, state, xs, ys, member):
        # Per split: the sums of the losses and of every metric, over the batches.
        def batch(totals, inputs):
            x, y, member = inputs
            outputs, _ = network.apply(params, state, x, train=False)
            values = [fn(outputs, y) for fn in measures]
            sums = [jnp.sum(jnp.where(member, v[:, None], 0.0), axis=0) for v in values]
            return totals + jnp.stack(sums).astype(totals.dtype), None

        totals = jnp.zeros((len(measures), member.shape[-1]), jnp.float32)
        return jax.lax.scan(batch, totals, (xs, ys, member))[0]

    def init_block(params, state, schedules, at):
        carry = jax.vmap(init_one, in_axes=(None, None, 0))(params, state, schedules)
        return carry, jax.vmap(lambda schedule: schedule_of(schedule)(at))(schedules)

    configs = (0, 0, None, None, None)
    options = compiler_options(fusion_emitters=network.fusion_emitters)
    return Program(
        init=jax.jit(init_block, compiler_options=options),
        chunk=jax.jit(jax.vmap(chunk_one, in_axes=configs), compiler_options=options),
        evaluate=jax.jit(jax.vmap(evaluate_one, in_axes=configs), compiler_options=options),
    )


def step_program(
    network: Network,
    objective: Objective,
    optimizer: OptimizerFactory,
    params,
    state,
    schedule,
    x,
    y,
):
    """What one training step computes: its jaxpr as text, and the jaxpr's constants.

    Two model, loss or optimizer functions of the same name (two lambdas, or
    one edited between a crash and a resume) give different texts when they
    compute differently; a checkpoint's fingerprint holds them.
    """
    loss_fn = training_loss(network, objective)

    def step(params, state, schedule, x, y):
        opt = optimizer(schedule)
        return update(opt, loss_fn, params, state, opt.init(params), x, y)

    closed = jax.make_jaxpr(step)(params, state, schedule, x, y)
    consts = [
        jax.random.key_data(c) if jax.dtypes.issubdtype(c.dtype, jax.dtypes.prng_key) else c
        for c in closed.consts
    ]
    return str(closed.jaxpr), consts


def update(opt: optax.GradientTransformation, loss_fn, params, state, opt_state, x, y):
    """One training step: ``(loss, params, state, opt_state)`` after one update of ``opt``
    on the gradient of ``loss_fn(params, state, x, y) -> (loss, new_state)``; `fit`,
    `lr_find` and checkpoints share it."""
    (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, x, y)
    try:
        updates, opt_state = opt.update(grads, opt_state, params)
    except TypeError as e:
        if "required keyword-only argument" not in str(e):
            raise
        # optax.lbfgs wants value, grad and value_fn; reduce_on_plateau wants value.
        raise ValueError(
            f"optimizer: its update needs more than (grads, state, params): {e}; "
            f"fit and lr_find cannot give that, so use a first-order optimizer such as optax.adam"
        ) from None
    return loss, optax.apply_updates(params, updates), state, opt_state


def training_loss(network: Network, objective: Objective) -> Callable[..., Any]:
    """``loss(params, state, x, y) -> (mean loss, new state)``: the objective's loss,
    averaged over the batch, of the model in training mode."""

    def loss(params, state, x, y):
        outputs, state = network.apply(params, state, x, train=True)
        return jnp.mean(objective.loss(outputs, y)), state

    return loss


def all_finite(tree) -> jax.Array:
    """Whether every leaf of ``tree`` is finite everywhere (a scalar bool)."""
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def select(keep: jax.Array, new, old):
    """``new`` where ``keep``, else ``old``, leaf by leaf."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(keep, a, b), new, old)
