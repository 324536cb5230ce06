"""Generate PyTorch golden values for ``jaxsched.compat.torch``.

Run from the repository root, in an environment that has torch installed::

    python tests/golden/make_torch_golden.py

(The test suite never imports torch; it only reads the JSON files written here.)
The script is deterministic: every random hyperparameter comes from a fixed seed.

It writes two files next to itself:

``torch_schedulers.json``
    ``{"torch_version", "cases": [...], "raising_cases": [...]}``.  Each case is
    ``{"class", "lr", "kwargs", "lrs", "tags"}`` (plus ``"ignored_kwargs"`` and
    ``"optimizer_kwargs"`` where used).  ``kwargs`` are exactly the keyword
    arguments passed to ``torch.optim.lr_scheduler.<class>`` (besides the
    optimizer and the momentum-only ones, which are in ``ignored_kwargs``);
    ``lr`` is the optimizer's ``lr``.  ``lrs[t]`` is
    ``optimizer.param_groups[0]["lr"]`` after ``t`` calls of ``scheduler.step()``
    (``lrs[0]``: right after construction).  ``tags`` contains ``"default"`` for
    the defaults case and ``"edge"`` for deliberate corner cases (zero-length
    phases, total_iters=0, negative milestones, ...).  ``raising_cases`` lists
    inputs for which torch raises: ``"at_step"`` is ``null`` when the constructor
    raises, else the number of the ``step()`` call that raises.

``torch_huge_steps.json``
    Values at step counts near ``2**31 - 1`` for StepLR, CosineAnnealingWarmRestarts,
    CyclicLR (triangular) and CosineAnnealingLR.  They are not obtained by
    stepping torch two billion times but by emulating, in Python float64, the
    exact float operations torch's ``step()`` performs (see ``huge_*`` below);
    each emulator is first checked bit-for-bit against real torch stepping.
    ``closed_form_lrs`` holds the textbook closed form for comparison.
"""

from __future__ import annotations

import json
import math
import random
import warnings
from pathlib import Path

import torch
from torch.optim import lr_scheduler

HERE = Path(__file__).resolve().parent
SEED = 20240917
MAX_STEPS = 400
MOMENTUM_KEYS = ("cycle_momentum", "base_momentum", "max_momentum")

# torch's advice about calling optimizer.step() first; irrelevant to the values recorded
warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")


def make_optimizer(lr: float, optimizer_kwargs: dict | None = None) -> torch.optim.SGD:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, **(optimizer_kwargs or {}))


def torch_lrs(cls: str, lr: float, n_steps: int, kwargs: dict, optimizer_kwargs=None) -> list:
    """lr after t = 0..n_steps calls of scheduler.step()."""
    opt = make_optimizer(lr, optimizer_kwargs)
    sched = getattr(lr_scheduler, cls)(opt, **kwargs)
    out = []
    for t in range(n_steps + 1):
        value = opt.param_groups[0]["lr"]
        assert isinstance(value, float) and math.isfinite(value), (cls, kwargs, t, value)
        out.append(value)
        if t < n_steps:
            opt.step()  # no gradient: a no-op, but keeps torch's call-order warning quiet
            sched.step()
    return out


CASES: list[dict] = []
RAISING: list[dict] = []


def case(cls, lr, n_steps, tags=(), optimizer_kwargs=None, **all_kwargs):
    n_steps = min(int(n_steps), MAX_STEPS) if cls != "OneCycleLR" else int(n_steps)
    kwargs = {k: v for k, v in all_kwargs.items() if k not in MOMENTUM_KEYS}
    ignored = {k: v for k, v in all_kwargs.items() if k in MOMENTUM_KEYS}
    entry = {"class": cls, "lr": lr, "kwargs": kwargs}
    if ignored:
        entry["ignored_kwargs"] = ignored
    if optimizer_kwargs:
        entry["optimizer_kwargs"] = optimizer_kwargs
    entry["tags"] = list(tags)
    entry["lrs"] = torch_lrs(cls, lr, n_steps, all_kwargs, optimizer_kwargs)
    CASES.append(entry)


def raising(cls, lr, n_try=5, **all_kwargs):
    """Record where torch raises for these arguments (constructor or k-th step())."""
    opt = make_optimizer(lr)
    kwargs = {k: v for k, v in all_kwargs.items() if k not in MOMENTUM_KEYS}
    entry = {"class": cls, "lr": lr, "kwargs": kwargs}
    try:
        sched = getattr(lr_scheduler, cls)(opt, **all_kwargs)
    except Exception as e:
        entry.update(at_step=None, raises=type(e).__name__, message=str(e))
        RAISING.append(entry)
        return
    for k in range(1, n_try + 1):
        try:
            sched.step()
        except Exception as e:
            entry.update(at_step=k, raises=type(e).__name__, message=str(e))
            RAISING.append(entry)
            return
    raise AssertionError(f"expected {cls}{kwargs} to raise within {n_try} steps")


def rlr(rng: random.Random) -> float:
    """Random learning rate, log-uniform in [1e-4, 1]."""
    return 10.0 ** rng.uniform(-4.0, 0.0)


def gamma01(rng: random.Random) -> float:
    """Random gamma in (0, 1], now and then exactly 1."""
    return 1.0 if rng.random() < 0.1 else rng.uniform(0.05, 1.0)


# --------------------------------------------------------------------------- cases
def gen_step(rng):
    case("StepLR", 0.1, 90, tags=["default"], step_size=30)
    case("StepLR", 0.05, 10, step_size=1, gamma=0.5)
    case("StepLR", 0.1, 12, step_size=3, gamma=1.0)
    case("StepLR", 0.1, 8, tags=["edge"], step_size=3, gamma=0.0)  # 0 from step 3
    for _ in range(12):
        ss = rng.randint(1, 60)
        case("StepLR", rlr(rng), max(3 * ss, 10), step_size=ss, gamma=gamma01(rng))


def gen_multistep(rng):
    case("MultiStepLR", 0.1, 90, tags=["default"], milestones=[30, 80])
    # a milestone at 0, a repeated one, unsorted
    case("MultiStepLR", 0.1, 10, milestones=[0, 3, 3, 1], gamma=0.5)
    case("MultiStepLR", 0.1, 8, tags=["edge"], milestones=[5, 2, 2, -1], gamma=0.0)
    case("MultiStepLR", 0.1, 4, tags=["edge"], milestones=[-2], gamma=0.0)
    case("MultiStepLR", 0.1, 10, tags=["edge"], milestones=[], gamma=0.5)
    # a negative milestone is never reached by step() (the closed form would count it)
    case("MultiStepLR", 0.1, 10, tags=["edge"], milestones=[-2, 4], gamma=0.5)
    for _ in range(12):
        k = rng.randint(1, 6)
        ms = [rng.randint(0, 60) for _ in range(k)]
        if rng.random() < 0.5:
            ms.append(rng.choice(ms))  # repeated
        if rng.random() < 0.3:
            ms.append(0)
        if rng.random() < 0.5:
            rng.shuffle(ms)  # unsorted
        else:
            ms.sort()
        case("MultiStepLR", rlr(rng), max(3 * max(ms), 10), milestones=ms, gamma=gamma01(rng))


def gen_exponential(rng):
    case("ExponentialLR", 0.1, 60, tags=["default"], gamma=0.9)
    case("ExponentialLR", 0.1, 10, gamma=1.0)
    case("ExponentialLR", 0.1, 5, tags=["edge"], gamma=0.0)
    for i in range(12):
        g = rng.uniform(1.0, 1.1) if i % 4 == 3 else rng.uniform(0.5, 1.0)
        case("ExponentialLR", rlr(rng), 3 * rng.randint(1, 60), gamma=g)


def gen_polynomial(rng):
    case("PolynomialLR", 0.1, 15, tags=["default"])
    case("PolynomialLR", 0.1, 5, tags=["edge"], total_iters=0)  # never changes
    case("PolynomialLR", 0.1, 12, tags=["edge"], total_iters=4, power=0.0)
    case("PolynomialLR", 0.1, 6, tags=["edge"], total_iters=-3, power=2.0)  # never changes
    for _ in range(12):
        ti = rng.randint(1, 60)
        case("PolynomialLR", rlr(rng), 3 * ti, total_iters=ti, power=rng.uniform(0.5, 3.0))


def gen_cosine(rng):
    case("CosineAnnealingLR", 0.1, 3 * 10 + 3, tags=["default"], T_max=10)
    case("CosineAnnealingLR", 0.1, 12, tags=["edge"], T_max=1)
    case("CosineAnnealingLR", 0.01, 40, tags=["edge"], T_max=7, eta_min=0.05)  # eta_min > lr
    case("CosineAnnealingLR", 0.1, 400, T_max=50, eta_min=0.001)
    for _ in range(12):
        T = rng.randint(1, 60)
        eta = 0.0 if rng.random() < 0.4 else 10.0 ** rng.uniform(-6, -2)
        case(
            "CosineAnnealingLR",
            rlr(rng),
            max(3 * T, 4 * T + rng.randint(0, 20)),
            T_max=T,
            eta_min=eta,
        )


def gen_warm_restarts(rng):
    case("CosineAnnealingWarmRestarts", 0.1, 40, tags=["default"], T_0=10)
    case("CosineAnnealingWarmRestarts", 0.1, 12, tags=["edge"], T_0=1)
    case("CosineAnnealingWarmRestarts", 0.1, 40, tags=["edge"], T_0=1, T_mult=2)
    for i in range(12):
        T_mult = (1, 2, 3)[i % 3]
        T_0 = rng.randint(1, 60 if T_mult == 1 else 20)
        eta = 0.0 if rng.random() < 0.4 else 10.0 ** rng.uniform(-6, -2)
        n = T_0 * (1 + T_mult + T_mult**2) + rng.randint(0, 5)
        case("CosineAnnealingWarmRestarts", rlr(rng), n, T_0=T_0, T_mult=T_mult, eta_min=eta)


def gen_cyclic(rng):
    case("CyclicLR", 0.1, 400, tags=["default"], base_lr=0.001, max_lr=0.1, cycle_momentum=False)
    # gamma is read in exp_range only; an inverted exp_range cycle (base above peak)
    for kwargs in (
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "gamma": 0.0},
        {"base_lr": 2.5, "max_lr": 1e-6, "step_size_up": 4, "mode": "exp_range", "gamma": 0.99},
    ):
        case("CyclicLR", 0.1, 30, tags=["edge"], cycle_momentum=False, **kwargs)
    case(
        "CyclicLR",
        0.1,
        30,
        tags=["edge"],
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=2,
        step_size_down=0,
        cycle_momentum=False,
    )
    # base_lr > max_lr
    case(
        "CyclicLR",
        0.1,
        30,
        tags=["edge"],
        base_lr=0.1,
        max_lr=0.01,
        step_size_up=3,
        step_size_down=4,
        cycle_momentum=False,
    )
    case(
        "CyclicLR",
        0.1,
        30,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=3,
        step_size_down=7,
        mode="exp_range",
        gamma=1.0,
        cycle_momentum=False,
    )
    # momentum cycling on an SGD with momentum does not change the lr
    case(
        "CyclicLR",
        0.5,
        40,
        optimizer_kwargs={"momentum": 0.9},
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=5,
        mode="triangular2",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
    )
    modes = ["triangular", "triangular2", "exp_range"]
    for i in range(12):
        mode = modes[i % 3]
        up = rng.randint(1, 60)
        down = None if i % 2 == 0 else rng.randint(1, 60)
        base = rlr(rng) / 10
        peak = base + rlr(rng)
        kw = {"base_lr": base, "max_lr": peak, "step_size_up": up}
        if down is not None or i % 4 == 0:
            kw["step_size_down"] = down  # None given explicitly now and then
        kw["mode"] = mode
        if mode == "exp_range":
            kw["gamma"] = rng.uniform(0.95, 0.9999)
        total = up + (up if down is None else down)
        case("CyclicLR", rlr(rng), 3 * total, **kw, cycle_momentum=False)


def gen_one_cycle(rng):
    def oc(lr, tags=(), **kw):
        case("OneCycleLR", lr, kw["total_steps"], tags=tags, **kw, cycle_momentum=False)

    oc(0.1, tags=["default"], max_lr=0.1, total_steps=100)
    oc(0.1, max_lr=0.1, total_steps=200, three_phase=True)
    oc(0.1, max_lr=0.1, total_steps=10, anneal_strategy="linear")  # lr at step 10 is negative
    oc(0.1, tags=["edge"], max_lr=0.1, total_steps=1)
    oc(0.1, tags=["edge"], max_lr=0.1, total_steps=2)
    oc(0.1, tags=["edge"], max_lr=0.1, total_steps=10, pct_start=0.0)
    oc(0.1, tags=["edge"], max_lr=0.1, total_steps=10, pct_start=0.7, three_phase=True)
    oc(0.1, tags=["edge"], max_lr=0.1, total_steps=20, pct_start=0.5, three_phase=True)
    oc(0.1, tags=["edge"], max_lr=0.1, total_steps=20, pct_start=0.99)
    pcts = [0.05, 0.1, 0.25, 0.3, 0.4, 0.45, 0.5, 0.6]
    for i in range(12):
        three = i % 2 == 1
        while True:
            T = rng.randint(10, 200)
            p = rng.choice(pcts) if rng.random() < 0.5 else round(rng.uniform(0.05, 0.5), 3)
            if three and p > 0.5:
                continue
            ends = [float(p * T) - 1] + ([float(2 * p * T) - 2] if three else [])
            # torch divides by zero when a phase has zero length (pct_start*T == 1)
            if ends[0] != 0.0 and (not three or ends[1] != ends[0]):
                break
        kw = {
            "max_lr": rlr(rng),
            "total_steps": T,
            "pct_start": p,
            "anneal_strategy": ("cos", "linear")[(i // 2) % 2],
            "three_phase": three,
        }
        if rng.random() < 0.6:
            kw["div_factor"] = rng.uniform(2.0, 100.0)
        if rng.random() < 0.6:
            kw["final_div_factor"] = 10.0 ** rng.uniform(1, 5)
        oc(rlr(rng), **kw)
    # momentum cycling on an SGD with momentum does not change the lr
    case(
        "OneCycleLR",
        0.1,
        30,
        optimizer_kwargs={"momentum": 0.9},
        max_lr=0.2,
        total_steps=30,
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
    )


def gen_linear(rng):
    case("LinearLR", 0.1, 15, tags=["default"])
    case("LinearLR", 0.1, 6, tags=["edge"], start_factor=0.5, total_iters=0)
    case("LinearLR", 0.1, 6, tags=["edge"], start_factor=0.5, total_iters=-2)  # likewise
    case("LinearLR", 0.1, 9, start_factor=0.5, end_factor=0.0, total_iters=3)
    case("LinearLR", 0.1, 9, start_factor=0.4, end_factor=0.4, total_iters=3)
    for _ in range(12):
        ti = rng.randint(1, 30)
        s, e = rng.uniform(0.01, 1.0), rng.uniform(0.01, 1.0)
        case("LinearLR", rlr(rng), 3 * ti, start_factor=s, end_factor=e, total_iters=ti)


def gen_constant(rng):
    case("ConstantLR", 0.1, 15, tags=["default"])
    case("ConstantLR", 0.1, 6, tags=["edge"], factor=0.5, total_iters=0)  # never undone
    case("ConstantLR", 0.1, 6, tags=["edge"], factor=0.0, total_iters=0)
    case("ConstantLR", 0.1, 6, tags=["edge"], factor=0.5, total_iters=-2)
    case("ConstantLR", 0.1, 9, factor=1.0, total_iters=3)
    for _ in range(12):
        ti = rng.randint(1, 30)
        case("ConstantLR", rlr(rng), max(3 * ti, 5), factor=rng.uniform(0.01, 1.0), total_iters=ti)


def gen_raising():
    raising("StepLR", 0.1, step_size=0)
    raising("CosineAnnealingLR", 0.1, T_max=0)
    raising("PolynomialLR", 0.1, total_iters=2, power=-1.0)
    raising("ConstantLR", 0.1, factor=1.5)
    raising("ConstantLR", 0.1, factor=-0.1)
    raising("ConstantLR", 0.1, factor=0.0, total_iters=2)
    raising("LinearLR", 0.1, start_factor=0.0)
    raising("LinearLR", 0.1, start_factor=1.5)
    raising("LinearLR", 0.1, end_factor=1.5)
    raising("LinearLR", 0.1, end_factor=-0.1)
    raising("CosineAnnealingWarmRestarts", 0.1, T_0=0)
    raising("CosineAnnealingWarmRestarts", 0.1, T_0=2.0)
    raising("CosineAnnealingWarmRestarts", 0.1, T_0=2, T_mult=0)
    raising("CosineAnnealingWarmRestarts", 0.1, T_0=2, T_mult=1.5)
    raising("CyclicLR", 0.1, base_lr=0.01, max_lr=0.1, step_size_up=0, cycle_momentum=False)
    raising("CyclicLR", 0.1, base_lr=0.01, max_lr=0.1, mode="bogus", cycle_momentum=False)
    # triangular2 computes 1 / 2.0 ** (cycle - 1): OverflowError from cycle 1025 on
    raising(
        "CyclicLR",
        0.1,
        n_try=3000,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=1,
        mode="triangular2",
        cycle_momentum=False,
    )
    raising("OneCycleLR", 0.1, max_lr=0.1, cycle_momentum=False)
    raising("OneCycleLR", 0.1, max_lr=0.1, total_steps=0, cycle_momentum=False)
    raising("OneCycleLR", 0.1, max_lr=0.1, total_steps=10, pct_start=0, cycle_momentum=False)
    raising("OneCycleLR", 0.1, max_lr=0.1, total_steps=10, pct_start=1.5, cycle_momentum=False)
    raising(
        "OneCycleLR", 0.1, max_lr=0.1, total_steps=10, anneal_strategy="exp", cycle_momentum=False
    )
    raising("OneCycleLR", 0.1, max_lr=0.1, total_steps=10, pct_start=0.1, cycle_momentum=False)
    raising(
        "OneCycleLR",
        0.1,
        max_lr=0.1,
        total_steps=20,
        pct_start=0.05,
        three_phase=True,
        cycle_momentum=False,
    )
    raising(
        "OneCycleLR", 0.1, n_try=20, max_lr=0.1, total_steps=10, pct_start=1.0, cycle_momentum=False
    )
    raising("OneCycleLR", 0.1, n_try=20, max_lr=0.1, total_steps=10, cycle_momentum=False)


# ------------------------------------------------------------- huge step counts
# Each emulator repeats, operation for operation, the float arithmetic that
# torch's step() performs, so its result is bit-identical to stepping torch.


def huge_step_lr(lr, step_size, gamma, t, max_mults=5_000_000):
    """StepLR multiplies group['lr'] by gamma at every t % step_size == 0, t > 0."""
    k = t // step_size
    x = lr
    for i in range(k):
        nxt = x * gamma
        if nxt == x:  # fixed point (0.0, inf, gamma == 1, or a subnormal stuck value)
            return x
        if i >= max_mults:
            return None
        x = nxt
    return x


def huge_warm_restarts(lr, T_0, T_mult, eta_min, t):
    """T_cur / T_i are Python ints in torch's step(); reproduce them exactly."""
    if T_mult == 1:
        T_i, T_cur = T_0, t % T_0
    else:
        T_i, start = T_0, 0
        while t - start >= T_i:  # same as incrementing T_cur and wrapping at T_i
            start += T_i
            T_i *= T_mult
        T_cur = t - start
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


def huge_cyclic(base_lr, max_lr, step_size_up, step_size_down, t):
    """CyclicLR triangular: a function of last_epoch alone (no recursion)."""
    step_size_up = float(step_size_up)
    step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
    total_size = step_size_up + step_size_down
    step_ratio = step_size_up / total_size
    cycle = math.floor(1 + t / total_size)
    x = 1.0 + t / total_size - cycle
    scale_factor = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
    base_height = (max_lr - base_lr) * scale_factor
    return base_lr + base_height * 1.0


def cosine_annealing_step(lr_now, base_lr, T_max, eta_min, last_epoch):
    """One call of CosineAnnealingLR.get_lr (the recursive, chainable form)."""
    if (last_epoch - 1 - T_max) % (2 * T_max) == 0:
        return lr_now + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
    return (1 + math.cos(math.pi * last_epoch / T_max)) / (
        1 + math.cos(math.pi * (last_epoch - 1) / T_max)
    ) * (lr_now - eta_min) + eta_min


def cosine_closed(lr, T_max, eta_min, t):
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def huge_cosine_annealing(lr, T_max, eta_min, t):
    """torch's recursion forgets its state: at every odd multiple of T_max the ratio's
    numerator 1 + cos(pi * L / T_max) is 0 (or ~1e-13 for tiny T_max), which resets
    lr to eta_min.  So start a few periods back from the closed form and step the
    recursion to t; accept only if starting 2, 3 or 4 periods back, from the closed
    form or from a perturbed value, all give the same bits."""
    results = set()
    for periods in (2, 3, 4):
        start = t - periods * 2 * T_max
        if start < 1:
            return None
        for perturb in (1.0, 1.0 + 1e-9):
            x = cosine_closed(lr, T_max, eta_min, start) * perturb
            for le in range(start + 1, t + 1):
                x = cosine_annealing_step(x, lr, T_max, eta_min, le)
            results.add(x)
    return results.pop() if len(results) == 1 else None


def check_emulators(rng):
    """Bit-exact agreement of the emulators with torch stepping, over 0..2000 steps."""
    n = 2000
    for _ in range(10):
        lr, ss, g = rlr(rng), rng.randint(1, 50), rng.uniform(0.5, 1.0)
        ref = torch_lrs("StepLR", lr, n, {"step_size": ss, "gamma": g})
        assert all(huge_step_lr(lr, ss, g, t) == ref[t] for t in range(n + 1))
        T0, Tm, eta = rng.randint(1, 30), rng.choice([1, 2, 3]), rng.choice([0.0, 1e-3])
        ref = torch_lrs(
            "CosineAnnealingWarmRestarts", lr, n, {"T_0": T0, "T_mult": Tm, "eta_min": eta}
        )
        assert all(huge_warm_restarts(lr, T0, Tm, eta, t) == ref[t] for t in range(n + 1))
        b, m, up, dn = lr / 10, lr, rng.randint(1, 40), rng.choice([None, rng.randint(1, 40)])
        kw = {
            "base_lr": b,
            "max_lr": m,
            "step_size_up": up,
            "step_size_down": dn,
            "cycle_momentum": False,
        }
        ref = torch_lrs("CyclicLR", 0.1, n, kw)
        assert all(huge_cyclic(b, m, up, dn, t) == ref[t] for t in range(n + 1))
        T = rng.randint(1, 40)
        ref = torch_lrs("CosineAnnealingLR", lr, n, {"T_max": T, "eta_min": eta})
        x = lr
        for t in range(1, n + 1):
            x = cosine_annealing_step(x, lr, T, eta, t)
            assert x == ref[t]
        for t in range(n - 30, n + 1):
            got = huge_cosine_annealing(lr, T, eta, t)
            assert got is None or got == ref[t], (T, eta, t)
    # the shortcut also agrees with the plain recursion far out (10**6 steps)
    for T, eta in ((1, 0.0), (3, 1e-3), (7, 0.0), (1000, 1e-3)):
        x, t_end = 0.1, 10**6
        for le in range(1, t_end + 1):
            x = cosine_annealing_step(x, 0.1, T, eta, le)
        assert huge_cosine_annealing(0.1, T, eta, t_end) == x, (T, eta)


def gen_huge():
    big = 2**31 - 1
    steps = [big, big - 1, big - 2, big - 1000, 2**30, 2**30 + 12345]
    out = []

    def add(cls, lr, kwargs, fn, closed, method, ts=steps):
        lrs = [fn(t) for t in ts]
        keep = [(t, v, closed(t)) for t, v in zip(ts, lrs, strict=True) if v is not None]
        if not keep:
            return
        out.append(
            {
                "class": cls,
                "lr": lr,
                "kwargs": kwargs,
                "steps": [k[0] for k in keep],
                "lrs": [k[1] for k in keep],
                "closed_form_lrs": [k[2] for k in keep],
                "method": method,
            }
        )

    for lr, ss, g in (
        (0.1, 2**30, 0.5),
        (0.1, 1000, 0.999999),
        (0.1, 7, 0.9),
        (0.1, 3, 1.0),
        (0.3, 2**29, 0.1),
    ):
        add(
            "StepLR",
            lr,
            {"step_size": ss, "gamma": g},
            lambda t, lr=lr, ss=ss, g=g: huge_step_lr(lr, ss, g, t),
            lambda t, lr=lr, ss=ss, g=g: lr * g ** (t // ss),
            "t // step_size repeated multiplications of group['lr'] by gamma, as step() does",
        )
    for lr, T0, Tm, eta in (
        (0.1, 10, 1, 0.0),
        (0.1, 7, 1, 1e-3),
        (0.1, 1000, 1, 0.0),
        (0.1, 2**20 + 3, 1, 1e-3),
        (0.1, 1, 2, 0.0),
        (0.1, 3, 2, 1e-3),
        (0.1, 1000, 2, 0.0),
        (0.1, 5, 3, 0.0),
    ):
        kw = {"T_0": T0, "T_mult": Tm, "eta_min": eta}
        restart, T_i = 0, T0  # the last restart at or before 2**31 - 1, and one step before it
        if Tm == 1:
            restart = big - big % T0
        while restart + T_i <= big:
            restart, T_i = restart + T_i, T_i * Tm
        ts = sorted(set(steps) | {restart, restart - 1})
        add(
            "CosineAnnealingWarmRestarts",
            lr,
            kw,
            lambda t, lr=lr, T0=T0, Tm=Tm, eta=eta: huge_warm_restarts(lr, T0, Tm, eta, t),
            lambda t, lr=lr, T0=T0, Tm=Tm, eta=eta: huge_warm_restarts(lr, T0, Tm, eta, t),
            "exact integer T_cur/T_i, then torch's cosine expression",
            ts,
        )
    for b, m, up, dn in (
        (0.001, 0.1, 2000, None),
        (0.01, 0.1, 3, 7),
        (0.001, 0.01, 1000, 5000),
        (0.0, 1.0, 1, None),
    ):
        kw = {"base_lr": b, "max_lr": m, "step_size_up": up}
        if dn is not None:
            kw["step_size_down"] = dn
        kw["mode"] = "triangular"

        def closed(t, b=b, m=m, up=up, dn=dn):
            total = up + (up if dn is None else dn)
            r = t % total
            frac = r / up if r <= up else (total - r) / (total - up)
            return b + (m - b) * frac

        add(
            "CyclicLR",
            0.1,
            kw,
            lambda t, b=b, m=m, up=up, dn=dn: huge_cyclic(b, m, up, dn, t),
            closed,
            "torch's get_lr formula evaluated at last_epoch = t (no recursion)",
        )
    for lr, T, eta in (
        (0.1, 1, 0.0),
        (0.1, 3, 1e-3),
        (0.1, 7, 0.0),
        (0.1, 100, 0.0),
        (0.1, 1000, 1e-3),
        (0.1, 12345, 0.0),
        (0.05, 99991, 1e-4),
    ):
        add(
            "CosineAnnealingLR",
            lr,
            {"T_max": T, "eta_min": eta},
            lambda t, lr=lr, T=T, eta=eta: huge_cosine_annealing(lr, T, eta, t),
            lambda t, lr=lr, T=T, eta=eta: cosine_closed(lr, T, eta, t),
            "recursive get_lr stepped from a few periods back (state is forgotten each period)",
        )
    return out


def write_json(path: Path, header: dict, lists: dict) -> None:
    """One case per line: diff-friendly and compact. Floats keep full repr precision."""
    parts = [json.dumps(header)[:-1]]
    for key, rows in lists.items():
        body = ",\n".join("  " + json.dumps(r, allow_nan=False) for r in rows)
        parts.append(f', "{key}": [\n{body}\n]')
    path.write_text("".join(parts) + "}\n")


def main() -> None:
    rng = random.Random(SEED)
    for gen in (
        gen_step,
        gen_multistep,
        gen_exponential,
        gen_polynomial,
        gen_cosine,
        gen_warm_restarts,
        gen_cyclic,
        gen_one_cycle,
        gen_linear,
        gen_constant,
    ):
        gen(random.Random(rng.getrandbits(64)))
    gen_raising()
    check_emulators(random.Random(rng.getrandbits(64)))
    huge = gen_huge()
    version = torch.__version__
    write_json(
        HERE / "torch_schedulers.json",
        {"torch_version": version},
        {"cases": CASES, "raising_cases": RAISING},
    )
    write_json(
        HERE / "torch_huge_steps.json",
        {"torch_version": version, "int32_max": 2**31 - 1},
        {"cases": huge},
    )
    counts: dict[str, int] = {}
    for c in CASES:
        counts[c["class"]] = counts.get(c["class"], 0) + 1
    print(
        f"torch {version}: {len(CASES)} cases {counts}, {len(RAISING)} raising, "
        f"{len(huge)} huge-step cases"
    )


if __name__ == "__main__":
    main()
