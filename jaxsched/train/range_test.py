"""`lr_find`: the learning-rate range test (Smith, 2017), as a ramp or as a vmapped sweep.

Two ways to ask "which learning rates train this model on this data?":

- ``method="ramp"``: Smith's test and fastai's ``lr_find``. One run whose rate
  grows exponentially from ``min_lr`` to ``max_lr``, recording the training
  loss at every step; the suggestion is where the smoothed loss falls fastest.
- ``method="sweep"``: ``n_rates`` short runs at constant, log-spaced rates,
  trained side by side in one ``jit(vmap(lax.scan))`` program from the same
  initial weights on the same batches; the suggestion is the rate that reached
  the lowest loss.

Both are one compiled program. Initial weights and data order follow `fit`
exactly (the same ``seed`` gives the same model and the same batches), so a
sweep's rate trains here as it would in ``fit(jaxsched.stack([jaxsched.constant(rate)]))``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

import jaxsched
from jaxsched._check import outside_stacklevel
from jaxsched.train._compiler import compiler_options
from jaxsched.train._io import array, plain, pyplot
from jaxsched.train._limits import check_fits, check_runs_fit, check_seed, check_steps
from jaxsched.train.data import Dataset
from jaxsched.train.devices import Blocks
from jaxsched.train.loop import (
    OptimizerFactory,
    all_finite,
    check_optimizer,
    default_optimizer,
    select,
    training_loss,
    update,
)
from jaxsched.train.models import ModelFactory, initial_states
from jaxsched.train.objective import PerExample
from jaxsched.train.order import batch_indices
from jaxsched.train.plan import check_outputs, load_problem

__all__ = ["LRFindResult", "lr_find"]


METHODS = ("ramp", "sweep")
_F32_TINY, _F32_MAX = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
_FLAT = 0.01  # a curve that never falls by 1% of its starting loss has no suggestion


@dataclasses.dataclass(frozen=True, repr=False)
class LRFindResult:
    """What `lr_find` returns: the loss against the learning rate, and a suggested rate.

    Attributes:
      method: ``"ramp"`` or ``"sweep"``.
      lr: the learning rates, increasing. Ramp: ``[steps]``, the rate of each
        step. Sweep: ``[n_rates]``, the constant rate of each run.
      loss: the curve, aligned with ``lr``; NaN where diverged. Ramp: the
        bias-corrected exponential moving average of the training loss. Sweep:
        each run's mean training loss over its last ``ceil(steps / 10)`` steps.
      raw_loss: the training loss of every step, NaN from the first non-finite
        one. Ramp: ``[steps]``. Sweep: ``[n_rates, steps]``.
      diverged: bool, aligned with ``lr``. Ramp: True from the step the test
        stopped counting on. Sweep: True for the runs whose loss became
        non-finite or rose above ``diverge_factor`` times its start.
      suggested: the suggested learning rate, one of ``lr``; NaN when the loss
        never fell (see `lr_find` for the rules).
    """

    method: str
    lr: np.ndarray
    loss: np.ndarray
    raw_loss: np.ndarray
    diverged: np.ndarray
    suggested: float

    def __repr__(self) -> str:
        return (
            f"LRFindResult(method={self.method!r}, suggested={self.suggested:.4g}, "
            f"lr=[{self.lr[0]:.3g} .. {self.lr[-1]:.3g}] ({len(self.lr)} points), "
            f"diverged={int(self.diverged.sum())})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers for `json.dumps`; NaN becomes None (strict JSON)."""
        return {
            "method": self.method,
            "suggested": plain(self.suggested),
            "lr": plain(self.lr),
            "loss": plain(self.loss),
            "raw_loss": plain(self.raw_loss),
            "diverged": self.diverged.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LRFindResult:
        """The inverse of `to_dict`."""
        return cls(
            method=d["method"],
            lr=array(d["lr"]),
            loss=array(d["loss"]),
            raw_loss=array(d["raw_loss"]),
            diverged=np.asarray(d["diverged"], dtype=bool),
            suggested=float(array(d["suggested"])),
        )

    def plot(self, path: str | Path | None = None):
        """The loss against the learning rate (log axis), the suggestion marked.

        Needs matplotlib. Writes a PNG when ``path`` is given; returns the figure.
        """
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        finite = np.isfinite(self.loss)
        if self.method == "ramp":
            ax.plot(
                self.lr[finite], self.raw_loss[finite], color="0.75", lw=0.8, label="training loss"
            )
            ax.plot(self.lr, self.loss, color="C0", label="smoothed")
        else:
            ax.plot(self.lr, self.loss, "o-", color="C0", ms=3, label="final training loss")
        if finite.any():
            # The raw losses up to the stop, but not the explosion that follows it.
            shown = self.raw_loss[finite] if self.method == "ramp" else self.loss[finite]
            low = min(np.nanmin(shown), np.min(self.loss[finite]))
            high = np.max(self.loss[finite])
            pad = 0.08 * (high - low) if high > low else 0.1 * abs(high) + 0.1
            ax.set_ylim(low - pad, high + pad)
            if self.method == "sweep" and self.diverged.any():
                dead = self.lr[self.diverged]
                ax.plot(dead, np.full(len(dead), high), "x", color="C3", label="diverged")
        if np.isfinite(self.suggested):
            ax.axvline(self.suggested, color="C2", ls="--", label=f"suggested {self.suggested:.3g}")
            at = np.flatnonzero(self.lr == self.suggested)
            if len(at):
                ax.plot(self.suggested, self.loss[at[0]], "o", color="C2")
        ax.set_xscale("log")
        ax.set(xlabel="learning rate", ylabel="training loss", title=f"lr_find ({self.method})")
        ax.grid(alpha=0.3)
        ax.grid(alpha=0.1, which="minor")
        ax.legend(fontsize=8)
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def lr_find(
    *,
    data: str | Path | Dataset | tuple = "mnist1d",
    model: str | ModelFactory = "mlp",
    optimizer: OptimizerFactory | None = None,
    loss: str | PerExample | None = None,
    method: Literal["ramp", "sweep"] = "ramp",
    min_lr: float = 1e-5,
    max_lr: float = 10.0,
    steps: int = 200,
    n_rates: int = 32,
    batch_size: int = 100,
    seed: int = 0,
    val_fraction: float = 0.1,
    smoothing: float = 0.95,
    diverge_factor: float = 4.0,
) -> LRFindResult:
    r"""The learning-rate range test: the training loss against the rate, and a suggestion.

    **Ramp** (Smith, 2017; fastai's ``lr_find``): one run of ``steps`` steps
    whose rate grows exponentially,

    .. math::
        \eta_t = \eta_{\min} \left(\frac{\eta_{\max}}{\eta_{\min}}\right)^{t / (T - 1)},
        \qquad t = 0, \dots, T - 1

    (``jaxsched.exponential(min_lr, steps - 1, max_lr / min_lr)``), so the
    first update uses ``min_lr`` and the last ``max_lr``. The loss recorded at
    step :math:`t`, :math:`\ell_t`, is that of step :math:`t`'s batch before
    the update with :math:`\eta_t` (as in fastai). The curve is its
    bias-corrected exponential moving average,

    .. math::
        a_t = \beta a_{t-1} + (1 - \beta) \ell_t, \quad a_{-1} = 0, \qquad
        \bar\ell_t = a_t / (1 - \beta^{t+1}),

    and the test stops counting (NaN from there on, ``diverged`` True) at the
    first step where :math:`\ell_t` is not finite or
    :math:`\bar\ell_t > \kappa \min_{s \le t} \bar\ell_s` (``diverge_factor``
    :math:`\kappa = 4`, as in fastai).

    *Suggestion: the steepest descent before the minimum.* With :math:`t^*` the
    step of the lowest smoothed loss and the slope
    :math:`g_t = d\bar\ell_t / d\ln\eta_t` (central differences), the suggestion
    is :math:`\eta_{t'}` with :math:`t' = \arg\min_{t_0 \le t \le t^*} g_t`,
    :math:`t_0 = \min(\mathrm{round}(\beta / (1 - \beta)), \lfloor T/4 \rfloor)`.
    The rate where the loss falls fastest makes the most progress per step
    while still well inside the stable range; the minimum itself sits at the
    edge of divergence. Only the descent before :math:`t^*` counts, because a
    loss can fall again past it (ReLU units die at huge rates and the loss
    settles back to :math:`\ln(\text{classes})` from above), and the first
    :math:`t_0` steps (the average's lag, while it has seen fewer batches than
    its window) are skipped because their slope is noise.

    ``smoothing`` :math:`\beta = 0.95` rather than fastai's 0.98: an average
    lags its input by about :math:`\beta / (1 - \beta)` steps, 49 at 0.98 (a
    quarter of a 200-step ramp, a curve shifted by 1.5 decades of rate) and 19
    at 0.95.

    **Sweep**: ``n_rates`` runs at the constant rates
    :math:`\eta_i = \eta_{\min} (\eta_{\max}/\eta_{\min})^{i / (n - 1)}`, each
    ``steps`` steps long, all in one ``jit(vmap(lax.scan))`` program from the
    same initial weights on the same batches (in blocks spread, as `fit`
    spreads its configurations, over the devices and cores: see
    `jaxsched.train.devices`). The curve is each run's mean
    training loss over its last :math:`k = \lceil T / 10 \rceil` steps. A run
    diverged (NaN, ``diverged`` True) if its loss became non-finite or rose, at
    any step, above :math:`\kappa` times its starting loss: SGD at a huge rate
    can blow up to :math:`10^{30}` and come back to a finite loss, or kill its
    ReLUs and settle near :math:`\ln(\text{classes})`, and neither is a rate
    to suggest. A non-finite run is frozen where it was and touches no other run.

    *Suggestion: the rate with the lowest final loss.* Every rate was trained
    for the same budget from the same start, so the best one is measured, not
    inferred from a slope; it is the best *constant* rate for ``steps`` steps,
    to within the grid's factor :math:`(\eta_{\max}/\eta_{\min})^{1/(n-1)}`.
    Rates just above it are often much worse, so take the rate one grid point
    lower for a margin.

    Either method: no finite loss at all raises ``ValueError``; a curve that
    never falls by 1% of its starting loss (a flat curve, or a range that
    starts too high) gives ``suggested = nan`` and a `RuntimeWarning`.

    Args:
      data: as in `fit`: ``"mnist1d"``, ``"digits"``, a path to an ``.npz``, a tuple
        ``(x, y, x_test, y_test)`` or a `Dataset`.
      model: as in `fit`: ``"mlp"``, ``"cnn"``, or ``model(input_shape, n_outputs, rngs)``.
      optimizer: ``optimizer(schedule) -> optax.GradientTransformation``; default
        SGD with momentum 0.9, as in `fit`.
      loss: as in `fit`: ``"cross_entropy"``, ``"mse"`` or ``loss(outputs, y) -> [batch]``;
        default by the targets.
      method: ``"ramp"`` or ``"sweep"``.
      min_lr: the lowest rate, > 0.
      max_lr: the highest rate, > ``min_lr``.
      steps: ramp: the length of the ramp; sweep: the steps of each run (>= 2).
      n_rates: sweep only: how many rates (>= 2).
      batch_size: examples per step.
      seed: sets the initial weights and the data order, as in `fit`.
      val_fraction: the part of the training set held out (and unused) as in `fit`,
        so that both train on the same examples.
      smoothing: ramp only: :math:`\beta \in [0, 1)` of the moving average.
      diverge_factor: :math:`\kappa > 1`, the loss ratio that counts as diverged.

    Returns:
      An `LRFindResult`: ``lr``, ``loss``, ``raw_loss``, ``diverged``, ``suggested``.

    Example:
      >>> from jaxsched.train import lr_find
      >>> found = lr_find(data="digits", steps=100)
      >>> found.lr.shape, found.loss.shape
      ((100,), (100,))
      >>> 1e-3 < found.suggested < 1.0
      True
      >>> sweep = lr_find(data="digits", method="sweep", min_lr=1e-3, max_lr=1e3, n_rates=7, steps=50)
      >>> [f"{lr:g}" for lr in sweep.lr]
      ['0.001', '0.01', '0.1', '1', '10', '100', '1000']
      >>> sweep.diverged.tolist()[-1], sweep.suggested
      (True, 0.1)

    References:
      Smith, *Cyclical Learning Rates for Training Neural Networks* (WACV 2017), §3.3.
    """
    f = "lr_find"
    if method not in METHODS:
        raise ValueError(
            f"{f}: method must be one of {', '.join(map(repr, METHODS))}, got {method!r}"
        )
    min_lr = _number(f, "min_lr", min_lr)
    max_lr = _number(f, "max_lr", max_lr)
    if min_lr <= 0:
        raise ValueError(f"{f}: min_lr must be > 0, got {min_lr!r}")
    if max_lr <= min_lr:
        raise ValueError(f"{f}: max_lr must be > min_lr={min_lr!r}, got {max_lr!r}")
    if min_lr < _F32_TINY or max_lr / min_lr > _F32_MAX:
        raise ValueError(
            f"{f}: min_lr={min_lr!r} and max_lr={max_lr!r} must be float32 numbers whose "
            f"ratio is a float32 number (min_lr >= {_F32_TINY:.3g}, max_lr / min_lr <= "
            f"{_F32_MAX:.3g})"
        )
    steps = _integer(f, "steps", steps, 2)
    check_steps(f, steps)
    if method == "sweep":
        n_rates = _integer(f, "n_rates", n_rates, 2)
    batch_size = _integer(f, "batch_size", batch_size, 1)
    seed = _integer(f, "seed", seed, None)
    check_seed(f, seed)
    smoothing = _number(f, "smoothing", smoothing)
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"{f}: smoothing must be in [0, 1), got {smoothing!r}")
    diverge_factor = _number(f, "diverge_factor", diverge_factor)
    if diverge_factor <= 1.0:
        raise ValueError(f"{f}: diverge_factor must be > 1, got {diverge_factor!r}")
    if optimizer is not None:
        check_optimizer(f, optimizer, jaxsched.constant(min_lr))

    dataset, objective = load_problem(data, loss, {}, val_fraction)  # as fit's plan does
    dataset.check_batch_size(f, batch_size)
    check_fits(
        f"{f}: the batch order ({steps} steps x {batch_size} int32 indices)",
        steps * batch_size * 4,
        "use fewer steps (a range test needs a few hundred)",
    )
    check_outputs(model, dataset, objective, batch_size)
    network, params, state = initial_states(model, dataset.input_shape, dataset.n_outputs, [seed])
    params, state = jax.tree_util.tree_map(lambda x: x[0], (params, state))
    if method == "sweep":
        n_weights = sum(x.size for x in jax.tree_util.tree_leaves(params))
        check_runs_fit(f, f"n_rates={n_rates} runs", n_rates, n_weights, "use fewer n_rates")
    run = _train_run(network, objective, optimizer or default_optimizer)
    data = (dataset.x_train, dataset.y_train)
    indices = batch_indices(seed, 0, steps, len(dataset.x_train), batch_size)
    options = compiler_options(fusion_emitters=network.fusion_emitters)

    if method == "ramp":
        schedule = jaxsched.exponential(min_lr, steps - 1, max_lr / min_lr)
        train = jax.jit(run, compiler_options=options)
        raw = np.asarray(train(params, state, schedule, data, indices), dtype=np.float64)
        rate_at = jax.jit(schedule, compiler_options=options)
        lr = np.asarray(rate_at(jnp.arange(steps)), dtype=np.float64)
        loss, diverged = _ramp_curve(raw, smoothing, diverge_factor)
        suggested = _ramp_suggestion(lr, loss, _lag(smoothing, steps))
    else:
        rates = np.geomspace(min_lr, max_lr, n_rates)
        schedules = jaxsched.constant(rates.astype(np.float32))
        sweep = jax.jit(
            jax.vmap(run, in_axes=(None, None, 0, None, None)), compiler_options=options
        )
        # In blocks over the devices and cores, as fit trains its configurations.
        blocks = Blocks(n_rates, 1)
        losses = blocks.run(
            sweep,
            blocks.replicate(params),
            blocks.replicate(state),
            blocks.place_configs(schedules),
            blocks.replicate(data),
            blocks.replicate(indices),
        )
        raw = blocks.gather_configs(losses).astype(np.float64)
        lr = np.asarray(schedules.value, dtype=np.float64)
        loss, diverged = _sweep_curve(raw, diverge_factor)
        suggested = _sweep_suggestion(lr, loss, raw)
    return LRFindResult(
        method=method,
        lr=lr,
        loss=loss,
        raw_loss=raw,
        diverged=diverged,
        suggested=suggested,
    )


# ------------------------------------------------------------------ training
def _train_run(network, objective, optimizer):
    """``run(params, state, schedule, (x_train, y_train), indices) -> losses[steps]``: one scan.

    ``indices[t]`` are the examples of step ``t`` (`fit`'s, from
    `jaxsched.train.order`). A run is frozen at its first non-finite loss or
    weights; its losses are NaN from there on.
    """
    loss_fn = training_loss(network, objective)

    def run(params, state, schedule, data, indices):
        opt = optimizer(schedule)
        x_train, y_train = data

        def step(carry, idx):
            params, state, opt_state, alive = carry
            x, y = x_train[idx], y_train[idx]
            loss, new_params, new_state, new_opt_state = update(
                opt, loss_fn, params, state, opt_state, x, y
            )
            keep = alive & jnp.isfinite(loss) & all_finite(new_params)
            recorded = jnp.where(alive & jnp.isfinite(loss), loss, jnp.nan)
            params, state, opt_state = select(
                keep, (new_params, new_state, new_opt_state), (params, state, opt_state)
            )
            return (params, state, opt_state, keep), recorded

        carry = (params, state, opt.init(params), jnp.bool_(True))
        _, losses = jax.lax.scan(step, carry, indices)
        return losses

    return run


# ------------------------------------------------------------ curves and rules
def _ramp_curve(raw: np.ndarray, beta: float, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """The bias-corrected moving average, NaN from the step the test stops counting on."""
    loss = np.full(raw.shape, np.nan)
    average, best = 0.0, math.inf
    for t, value in enumerate(raw):
        if not np.isfinite(value):
            break
        average = beta * average + (1.0 - beta) * value
        smoothed = average / (1.0 - beta ** (t + 1))
        if smoothed > factor * best:
            break
        best = min(best, smoothed)
        loss[t] = smoothed
    return loss, ~np.isfinite(loss)


def _lag(beta: float, steps: int) -> int:
    """Steps skipped at the start of a ramp: the moving average's lag, at most a quarter."""
    return min(round(beta / (1.0 - beta)), steps // 4)


def _ramp_suggestion(lr: np.ndarray, loss: np.ndarray, skip: int) -> float:
    """The rate of steepest descent of ``loss`` against ``ln(lr)``, from ``skip`` to the minimum."""
    n = int(np.sum(np.isfinite(loss)))  # the finite part is a prefix
    if n == 0:
        raise ValueError(
            f"lr_find: the training loss was not finite from the first step "
            f"(at min_lr={lr[0]:.3g}); lower min_lr or check the model and data"
        )
    curve = loss[:n]
    lowest = int(np.argmin(curve))
    start = min(skip, lowest)
    if n < 3 or lowest - start < 1 or curve[start] - curve[lowest] < _FLAT * abs(curve[start]):
        return _no_suggestion("ramp", lr[0], lr[n - 1], diverged_at_once=n < 3)
    slope = np.gradient(curve, np.log(lr[:n]))
    return float(lr[start + int(np.argmin(slope[start : lowest + 1]))])


def _sweep_curve(raw: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Each run's mean loss over its last ``ceil(steps / 10)`` steps; NaN if it diverged."""
    k = math.ceil(raw.shape[1] / 10)
    with np.errstate(invalid="ignore"):
        final = raw[:, -k:].mean(axis=1)
        diverged = ~np.isfinite(raw).all(axis=1) | (raw.max(axis=1) > factor * raw[:, 0])
    return np.where(diverged, np.nan, final), diverged


def _sweep_suggestion(lr: np.ndarray, loss: np.ndarray, raw: np.ndarray) -> float:
    """The rate with the lowest final loss (NaN, with a warning, if none fell below the start)."""
    if not np.isfinite(loss).any():
        raise ValueError(
            f"lr_find: every rate diverged (lowest {lr[0]:.3g}); lower min_lr or check the "
            f"model and data"
        )
    start = float(np.nanmax(raw[:, 0]))  # every run starts from the same weights and batch
    best = int(np.nanargmin(loss))
    if not start - loss[best] >= _FLAT * abs(start):
        return _no_suggestion("sweep", lr[0], lr[-1])
    return float(lr[best])


def _no_suggestion(method: str, low: float, high: float, diverged_at_once: bool = False) -> float:
    advice = (
        "Lower min_lr: the loss diverged within a few steps"
        if diverged_at_once
        else "Widen the range (a lower min_lr, a higher max_lr) or train longer (more steps)"
    )
    warnings.warn(
        f"lr_find ({method}): the training loss never fell by {_FLAT:.0%} between the rates "
        f"{low:.3g} and {high:.3g}; no suggestion (nan). {advice}",
        RuntimeWarning,
        stacklevel=outside_stacklevel(),
    )
    return math.nan


# ------------------------------------------------------------------ checking
def _number(f: str, name: str, value: Any) -> float:
    if isinstance(value, jax.Array) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()  # jnp.float32(1e-4), as np.float32 is taken
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{f}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{f}: {name} must be finite, got {value!r}")
    return float(value)


def _integer(f: str, name: str, value: Any, minimum: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{f}: {name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{f}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
