"""Generate PyTorch golden values for the compat classes that make_torch_golden.py does not
cover: LambdaLR, MultiplicativeLR, SequentialLR, ChainedScheduler, the momentum of
OneCycleLR and CyclicLR, and ReduceLROnPlateau.

Run from the repository root, in an environment that has torch installed::

    python tests/golden/make_torch_golden_more.py

It writes ``torch_more.json`` next to itself: ``{"torch_version", "lambdas", "cases",
"momentum_cases", "plateau_cases"}``, deterministic (fixed seeds).

``lambdas`` names the functions given as ``lr_lambda``: each is written so that the
same expression is valid Python on an int (what torch passes) and JAX on an array
(what jaxsched passes); tests/test_torch_more.py holds the same table.

``cases``: ``{"class", "lr", "kwargs", "lrs"}`` as in torch_schedulers.json, where an
``lr_lambda`` is a name from ``lambdas`` and ``schedulers`` is a list of
``{"class", "kwargs"}`` built on the same optimizer, in order.

``momentum_cases``: ``{"class", "kwargs", "optimizer", "lrs", "momentums"}``:
``momentums[t]`` is SGD's ``param_groups[0]["momentum"]`` (or Adam's ``betas[0]``)
after ``t`` calls of ``step()``.

``plateau_cases``: ``{"lr", "kwargs", "metrics", "lrs"}``: ``lrs[k]`` is the rate after
``scheduler.step(metrics[i])`` for ``i < k``.

``chain_cases``: ChainedSchedulers as in ``cases`` whose schedulers act on the rate the
others leave (CosineAnnealingLR, SequentialLR, nested ChainedSchedulers), in a few
structures (the classes, functions and strings; each drawn with several arguments):
the tests compile each structure once. The tests build every scheduler with the case's
``lr``: PyTorch's ``base_lrs`` are checked to be that wherever they are read.

``long_cases``: ChainedSchedulers as in ``cases`` with ``steps``: ``lrs[i]`` is the rate
after ``steps[i]`` calls of ``step()``, far into runs where a multiplying scheduler's
closed form underflows float32. ``refused_cases``: ``{"class", "kwargs", "error"}``,
arguments PyTorch refuses, when built or stepped, with the exception it raises.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import torch
from make_torch_golden import write_json
from torch.optim import lr_scheduler

HERE = Path(__file__).resolve().parent
SEED = 20250301

warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
warnings.filterwarnings("ignore", message=r"The epoch parameter")

LAMBDAS = {
    "pow095": lambda epoch: 0.95**epoch,
    "inverse": lambda epoch: 1 / (1 + 0.1 * epoch),
    "const09": lambda epoch: 0.9 + 0 * epoch,
    "wave": lambda epoch: 0.97 + 0.02 * (epoch % 3),
    "one": lambda epoch: 1 + 0 * epoch,
}
# What each name is, written out for the JSON (and mirrored in the tests).
LAMBDA_SOURCE = {
    "pow095": "0.95 ** epoch",
    "inverse": "1 / (1 + 0.1 * epoch)",
    "const09": "0.9 + 0 * epoch",
    "wave": "0.97 + 0.02 * (epoch % 3)",
    "one": "1 + 0 * epoch",
}


def optimizer(lr: float, kind: str = "sgd", **kwargs) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(1))]
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, **kwargs)
    return torch.optim.SGD(params, lr=lr, **kwargs)


def build(opt, cls: str, kwargs: dict):
    kwargs = dict(kwargs)
    if "lr_lambda" in kwargs:
        kwargs["lr_lambda"] = LAMBDAS[kwargs["lr_lambda"]]
    if "schedulers" in kwargs:
        kwargs["schedulers"] = [build(opt, s["class"], s["kwargs"]) for s in kwargs["schedulers"]]
    if cls == "SequentialLR":
        return lr_scheduler.SequentialLR(opt, **kwargs)
    if cls == "ChainedScheduler":
        return lr_scheduler.ChainedScheduler(kwargs["schedulers"], optimizer=opt)
    return getattr(lr_scheduler, cls)(opt, **kwargs)


CASES: list[dict] = []
MOMENTUM: list[dict] = []
PLATEAU: list[dict] = []
CHAINS: list[dict] = []
LONG: list[dict] = []
REFUSED: list[dict] = []


def case(cls: str, lr: float, n_steps: int, **kwargs) -> None:
    opt = optimizer(lr)
    sched = build(opt, cls, kwargs)
    lrs = []
    for t in range(n_steps + 1):
        lrs.append(float(opt.param_groups[0]["lr"]))
        if t < n_steps:
            opt.step()
            sched.step()
    CASES.append({"class": cls, "lr": lr, "kwargs": kwargs, "lrs": lrs})


def sub(cls: str, **kwargs) -> dict:
    return {"class": cls, "kwargs": kwargs}


def gen_lambdas(rng: random.Random) -> None:
    for name in ("pow095", "inverse", "const09", "wave"):
        case("LambdaLR", 0.1, 40, lr_lambda=name)
        case("MultiplicativeLR", 0.1, 40, lr_lambda=name if name != "inverse" else "const09")
    case("MultiplicativeLR", 0.05, 300, lr_lambda="wave")  # more than one chunk of 256
    for _ in range(4):
        lr = 10 ** rng.uniform(-4, 0)
        case("LambdaLR", lr, 30, lr_lambda=rng.choice(list(LAMBDAS)))
        case("MultiplicativeLR", lr, 30, lr_lambda=rng.choice(["pow095", "const09", "wave"]))


def gen_sequential(rng: random.Random) -> None:
    lin = sub("LinearLR", start_factor=0.1, total_iters=5)
    case("SequentialLR", 0.1, 30, schedulers=[lin, sub("ExponentialLR", gamma=0.9)], milestones=[5])
    case(
        "SequentialLR",
        0.1,
        40,
        schedulers=[
            sub("ConstantLR", factor=0.5, total_iters=4),
            sub("CosineAnnealingLR", T_max=12),
        ],
        milestones=[6],
    )
    case(
        "SequentialLR",
        0.2,
        50,
        schedulers=[
            lin,
            sub("StepLR", step_size=4, gamma=0.5),
            sub("MultiStepLR", milestones=[3, 9], gamma=0.3),
        ],
        milestones=[8, 20],
    )
    case(
        "SequentialLR",
        0.1,
        30,
        schedulers=[sub("ExponentialLR", gamma=0.8), sub("MultiplicativeLR", lr_lambda="wave")],
        milestones=[7],
    )
    case(
        "SequentialLR",
        0.1,
        30,
        schedulers=[
            sub("LambdaLR", lr_lambda="inverse"),
            sub("PolynomialLR", total_iters=8, power=2.0),
        ],
        milestones=[0],
    )
    case(
        "SequentialLR",
        0.1,
        40,
        schedulers=[
            sub("LambdaLR", lr_lambda="pow095"),
            sub("CosineAnnealingWarmRestarts", T_0=5, T_mult=2),
            sub("MultiplicativeLR", lr_lambda="const09"),
        ],
        milestones=[5, 21],
    )
    for _ in range(4):
        m = rng.randint(1, 15)
        case(
            "SequentialLR",
            10 ** rng.uniform(-3, 0),
            40,
            schedulers=[
                sub("LinearLR", start_factor=rng.uniform(0.01, 1), total_iters=rng.randint(1, 10)),
                sub("CosineAnnealingLR", T_max=rng.randint(1, 30), eta_min=rng.choice([0.0, 1e-4])),
            ],
            milestones=[m],
        )


def gen_chained(rng: random.Random) -> None:
    case(
        "ChainedScheduler",
        1.0,
        10,
        schedulers=[sub("ConstantLR", factor=0.1, total_iters=2), sub("ExponentialLR", gamma=0.9)],
    )
    case(
        "ChainedScheduler",
        0.1,
        30,
        schedulers=[
            sub("LinearLR", start_factor=0.2, total_iters=6),
            sub("StepLR", step_size=5, gamma=0.5),
            sub("PolynomialLR", total_iters=20, power=1.5),
        ],
    )
    case(
        "ChainedScheduler",
        0.1,
        25,
        schedulers=[
            sub("MultiStepLR", milestones=[4, 8], gamma=0.5),
            sub("MultiplicativeLR", lr_lambda="wave"),
        ],
    )
    case(
        "ChainedScheduler",
        0.1,
        25,
        schedulers=[sub("LambdaLR", lr_lambda="inverse"), sub("StepLR", step_size=3, gamma=0.5)],
    )
    case(
        "ChainedScheduler",
        0.1,
        25,
        schedulers=[sub("StepLR", step_size=3, gamma=0.5), sub("LambdaLR", lr_lambda="inverse")],
    )
    case(
        "ChainedScheduler",
        0.1,
        30,
        schedulers=[
            sub("CosineAnnealingWarmRestarts", T_0=7),
            sub("ExponentialLR", gamma=0.95),
            sub("MultiplicativeLR", lr_lambda="const09"),
        ],
    )
    for _ in range(3):
        case(
            "ChainedScheduler",
            10 ** rng.uniform(-3, 0),
            30,
            schedulers=[
                sub("ExponentialLR", gamma=rng.uniform(0.8, 1.0)),
                sub("ConstantLR", factor=rng.uniform(0.1, 1.0), total_iters=rng.randint(1, 10)),
                sub("LinearLR", start_factor=rng.uniform(0.1, 1.0), total_iters=rng.randint(1, 10)),
            ],
        )


def leaves(sched) -> list:
    """The schedulers a SequentialLR or ChainedScheduler holds, nested ones opened."""
    inner = getattr(sched, "_schedulers", None)
    return [sched] if inner is None else [x for s in inner for x in leaves(s)]


MULTIPLY = (
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "MultiplicativeLR",
)


def chain_case(lr: float, n_steps: int, schedulers: list[dict]) -> None:
    opt = optimizer(lr)
    sched = build(opt, "ChainedScheduler", {"schedulers": schedulers})
    # The tests build every scheduler with lr: check that PyTorch's base_lrs are lr where
    # they matter (a multiplying scheduler stepped by the chain reads only the rate).
    multiply = tuple(getattr(lr_scheduler, name) for name in MULTIPLY)
    direct = [s for s in sched._schedulers if isinstance(s, multiply)]
    for s in leaves(sched):
        if not isinstance(s, lr_scheduler.CyclicLR | lr_scheduler.OneCycleLR) and s not in direct:
            assert s.base_lrs == [lr], (s, s.base_lrs, lr)
    lrs = []
    for t in range(n_steps + 1):
        lrs.append(float(opt.param_groups[0]["lr"]))
        if t < n_steps:
            opt.step()
            sched.step()
    kwargs = {"schedulers": schedulers}
    CHAINS.append({"class": "ChainedScheduler", "lr": lr, "kwargs": kwargs, "lrs": lrs})


def cosine(rng: random.Random, lr: float, longest: int = 30) -> dict:
    """A CosineAnnealingLR: T_max from 1, eta_min 0, below lr, or (rarely) above it."""
    eta_min = rng.choice([0.0, 0.0, lr * rng.uniform(0.001, 0.5), lr * rng.uniform(1.1, 3)])
    return sub("CosineAnnealingLR", T_max=rng.randint(1, longest), eta_min=eta_min)


#: Random members of a chain: each maker, given an rng and lr, draws arguments; the
#: structure (class, function, strings) is fixed when the maker is drawn.
def _maker(rng: random.Random, last: bool, first: bool, nested: bool):
    kinds = ["cosine"] * 4 + [
        "StepLR",
        "MultiStepLR",
        "ConstantLR",
        "LinearLR",
        "ExponentialLR",
        "PolynomialLR",
        "CosineAnnealingWarmRestarts",
        "LambdaLR",
        "MultiplicativeLR",
    ]
    if not first:  # built first, CyclicLR would make its base_lr every later one's base
        kinds.append("CyclicLR")
    if last:  # OneCycleLR sets initial_lr, the base of every scheduler built after it
        kinds.append("OneCycleLR")
    if not nested:
        kinds += ["SequentialLR", "ChainedScheduler"]
    kind = rng.choice(kinds)
    if kind == "cosine":
        return lambda r, lr: cosine(r, lr)
    if kind == "StepLR":
        return lambda r, lr: sub("StepLR", step_size=r.randint(1, 12), gamma=r.uniform(0.3, 1))
    if kind == "MultiStepLR":
        n = rng.randint(1, 3)
        return lambda r, lr: sub(
            "MultiStepLR", milestones=sorted(r.sample(range(0, 60), n)), gamma=r.uniform(0.2, 1)
        )
    if kind == "ConstantLR":
        return lambda r, lr: sub(
            "ConstantLR", factor=r.uniform(0.05, 1), total_iters=r.randint(1, 40)
        )
    if kind == "LinearLR":
        return lambda r, lr: sub(
            "LinearLR",
            start_factor=r.uniform(0.05, 1),
            end_factor=r.uniform(0.3, 1),
            total_iters=r.randint(1, 40),
        )
    if kind == "ExponentialLR":
        return lambda r, lr: sub("ExponentialLR", gamma=r.uniform(0.9, 1))
    if kind == "PolynomialLR":
        return lambda r, lr: sub(
            "PolynomialLR", total_iters=r.randint(1, 100), power=r.uniform(0.5, 3)
        )
    if kind == "CosineAnnealingWarmRestarts":
        mult = rng.choice([1, 2])
        return lambda r, lr: sub(
            "CosineAnnealingWarmRestarts",
            T_0=r.randint(1, 15),
            T_mult=mult,
            eta_min=r.choice([0.0, lr * r.uniform(0, 0.5)]),
        )
    if kind in ("LambdaLR", "MultiplicativeLR"):
        name = rng.choice(["pow095", "inverse", "wave"] if kind == "LambdaLR" else ["wave"])
        return lambda r, lr: sub(kind, lr_lambda=name)
    if kind == "CyclicLR":
        mode = rng.choice(["triangular", "triangular2", "exp_range"])
        down = rng.random() < 0.5
        return lambda r, lr: sub(
            "CyclicLR",
            base_lr=lr * r.uniform(0.05, 0.5),
            max_lr=lr * r.uniform(0.6, 2),
            step_size_up=r.randint(1, 15),
            step_size_down=r.randint(1, 15) if down else None,
            mode=mode,
            gamma=r.uniform(0.95, 1),
        )
    if kind == "OneCycleLR":
        three, strategy = rng.random() < 0.5, rng.choice(["cos", "linear"])
        return lambda r, lr: sub(
            "OneCycleLR",
            max_lr=lr * r.uniform(0.5, 2),
            total_steps=r.randint(80, 120),
            pct_start=r.uniform(0.1, 0.45),
            three_phase=three,
            anneal_strategy=strategy,
        )
    inner = [_maker(rng, False, False, True) for _ in range(rng.randint(2, 3))]
    if kind == "ChainedScheduler":
        return lambda r, lr: sub(kind, schedulers=[m(r, lr) for m in inner])
    return lambda r, lr: sub(
        kind,
        schedulers=[m(r, lr) for m in inner],
        milestones=sorted(r.sample(range(0, 50), len(inner) - 1)),
    )


def gen_history(rng: random.Random) -> None:
    """Chains with schedulers that act on the rate the others leave."""

    def draws(make, count: int = 3, n_steps: int = 90) -> None:
        for _ in range(count):
            lr = 10 ** rng.uniform(-3, 0)
            chain_case(lr, n_steps, make(lr))

    def linear(lo: float = 0.01) -> dict:
        start = rng.choice([1.0, rng.uniform(lo, 1)])  # 1: the cosine alone
        return sub("LinearLR", start_factor=start, total_iters=rng.randint(1, 20))

    # CosineAnnealingLR in a chain, past T_max and over several periods.
    draws(lambda lr: [linear(), cosine(rng, lr)], count=5)
    draws(
        lambda lr: [
            sub("ConstantLR", factor=rng.uniform(0.1, 1), total_iters=rng.randint(1, 30)),
            cosine(rng, lr, 12),
            cosine(rng, lr, 40),
            sub("ExponentialLR", gamma=rng.uniform(0.9, 1)),
        ]
    )
    draws(
        lambda lr: [
            sub("LambdaLR", lr_lambda="pow095"),
            sub("StepLR", step_size=rng.randint(2, 15), gamma=rng.uniform(0.3, 0.9)),
            cosine(rng, lr),
            sub("MultiplicativeLR", lr_lambda="wave"),
        ]
    )
    draws(
        lambda lr: [
            cosine(rng, lr),
            sub("LambdaLR", lr_lambda="inverse"),
            sub("PolynomialLR", total_iters=rng.randint(10, 120), power=rng.uniform(0.5, 2)),
            sub("MultiStepLR", milestones=sorted(rng.sample(range(60), 2)), gamma=0.5),
        ]
    )
    draws(
        lambda lr: [
            sub("ExponentialLR", gamma=rng.uniform(0.95, 1)),
            sub("CyclicLR", base_lr=lr / 10, max_lr=lr, step_size_up=rng.randint(2, 12)),
            cosine(rng, lr),
        ]
    )
    draws(
        lambda lr: [
            sub("CosineAnnealingWarmRestarts", T_0=rng.randint(2, 12), T_mult=2),
            cosine(rng, lr),
            sub("ConstantLR", factor=rng.uniform(0.1, 1), total_iters=rng.randint(1, 30)),
        ],
        count=2,
    )
    draws(
        lambda lr: [
            cosine(rng, lr),
            sub("OneCycleLR", max_lr=lr, total_steps=rng.randint(90, 110)),
            sub("ExponentialLR", gamma=rng.uniform(0.9, 1)),
        ],
        count=2,
    )
    # SequentialLR in a chain: its scheduler steps the chain's rate; step(0) at milestones.
    draws(
        lambda lr: [
            sub("ExponentialLR", gamma=rng.uniform(0.9, 1)),
            sub(
                "SequentialLR",
                schedulers=[linear(0.05), cosine(rng, lr)],
                milestones=[rng.choice([0, rng.randint(1, 30)])],
            ),
        ],
        count=4,
    )
    draws(
        lambda lr: [
            sub(
                "SequentialLR",
                schedulers=[
                    sub("ConstantLR", factor=rng.uniform(0.1, 1), total_iters=rng.randint(1, 9)),
                    sub("StepLR", step_size=rng.randint(2, 9), gamma=rng.uniform(0.5, 1)),
                    sub("MultiplicativeLR", lr_lambda="wave"),
                ],
                milestones=sorted(rng.sample(range(1, 60), 2)),
            ),
            cosine(rng, lr),
        ]
    )
    draws(
        lambda lr: [
            linear(0.05),
            sub(
                "SequentialLR",
                schedulers=[
                    sub("LambdaLR", lr_lambda="pow095"),
                    sub("CosineAnnealingWarmRestarts", T_0=rng.randint(2, 12)),
                ],
                milestones=[rng.randint(0, 30)],
            ),
        ],
        count=2,
    )
    draws(
        lambda lr: [
            sub(
                "SequentialLR",
                schedulers=[
                    sub("ExponentialLR", gamma=rng.uniform(0.8, 1)),
                    sub("PolynomialLR", total_iters=rng.randint(5, 50), power=2.0),
                ],
                milestones=[rng.randint(1, 40)],
            ),
            sub("ConstantLR", factor=rng.uniform(0.1, 1), total_iters=rng.randint(1, 60)),
        ],
        count=2,
    )
    # Nested chains: the inner one's schedulers step where it stands.
    draws(
        lambda lr: [
            sub(
                "ChainedScheduler",
                schedulers=[
                    sub("ConstantLR", factor=rng.uniform(0.1, 1), total_iters=rng.randint(1, 9)),
                    sub("ExponentialLR", gamma=rng.uniform(0.9, 1)),
                ],
            ),
            sub(
                "ChainedScheduler",
                schedulers=[
                    cosine(rng, lr),
                    sub("StepLR", step_size=rng.randint(2, 15), gamma=rng.uniform(0.3, 0.9)),
                ],
            ),
        ]
    )
    draws(  # closed forms only, nested
        lambda lr: [
            sub(
                "ChainedScheduler", schedulers=[linear(0.05), sub("LambdaLR", lr_lambda="inverse")]
            ),
            sub("StepLR", step_size=rng.randint(2, 15), gamma=rng.uniform(0.3, 0.9)),
        ],
        count=2,
    )
    # Random chains: a few random structures, each with random arguments.
    for _ in range(4):
        size = rng.randint(2, 4)
        makers = [_maker(rng, i == size - 1, i == 0, False) for i in range(size)]
        draws(lambda lr, makers=makers: [m(rng, lr) for m in makers], n_steps=80)
    # A closed form: a CyclicLR built after another takes its first step at lr.
    draws(
        lambda lr: [
            sub("ExponentialLR", gamma=rng.uniform(0.9, 1)),
            sub("CyclicLR", base_lr=lr / 10, max_lr=lr * 2, step_size_up=rng.randint(2, 12)),
            sub("ConstantLR", factor=rng.uniform(0.1, 1), total_iters=rng.randint(1, 30)),
        ],
        count=2,
    )


def long_case(lr: float, steps: list[int], schedulers: list[dict]) -> None:
    """A ChainedScheduler's rate at a few ``steps`` of a long run."""
    opt = optimizer(lr)
    sched = build(opt, "ChainedScheduler", {"schedulers": schedulers})
    lrs = [float(opt.param_groups[0]["lr"])] if 0 in steps else []
    for t in range(1, max(steps) + 1):
        opt.step()
        sched.step()
        if t in steps:
            lrs.append(float(opt.param_groups[0]["lr"]))
    kwargs = {"schedulers": schedulers}
    LONG.append(
        {"class": "ChainedScheduler", "lr": lr, "kwargs": kwargs, "steps": steps, "lrs": lrs}
    )


def gen_underflow(rng: random.Random) -> None:
    """Multiplying schedulers after an overwriting one (or a cosine) where their closed form
    underflows float32, far past it: PyTorch multiplies the rate by gamma at every step."""
    one = sub("LambdaLR", lr_lambda="one")
    long_case(0.1, [0, 100, 126, 127, 128, 130, 200, 1000], [one, sub("ExponentialLR", gamma=0.5)])
    long_case(
        0.1,
        [80000, 87000, 88000, 90000, 100000],
        [sub("CosineAnnealingWarmRestarts", T_0=10), sub("ExponentialLR", gamma=0.999)],
    )
    long_case(0.1, [8000, 9000, 10000, 20000], [one, sub("ExponentialLR", gamma=0.99)])
    long_case(0.1, [300, 378, 380, 381, 400, 600], [one, sub("StepLR", step_size=3, gamma=0.5)])
    long_case(
        0.1,
        [170000, 176000, 176001, 180000, 200000],
        [one, sub("StepLR", step_size=2, gamma=0.999)],
    )
    long_case(
        0.1,
        [100, 125, 126, 127, 128, 150, 199, 250],
        [
            sub("CosineAnnealingWarmRestarts", T_0=7),
            sub("MultiStepLR", milestones=list(range(1, 200)), gamma=0.5),
        ],
    )
    long_case(1.0, list(range(90, 102)), [one, sub("PolynomialLR", total_iters=100, power=30.0)])
    # The rate re-lifted by the cosine at each bottom while gamma ** t underflows.
    long_case(
        1.0,
        list(range(100, 141)),
        [sub("ExponentialLR", gamma=0.5), sub("CosineAnnealingLR", T_max=17)],
    )
    long_case(
        1.0,
        list(range(100, 141)),
        [
            sub("StepLR", step_size=16, gamma=0.999),
            sub("ConstantLR", factor=1.0, total_iters=200),
            sub("ExponentialLR", gamma=0.5),
            sub(
                "ChainedScheduler",
                schedulers=[
                    sub("CosineAnnealingLR", T_max=17),
                    sub("LinearLR", start_factor=1.0, end_factor=1.0, total_iters=0),
                ],
            ),
        ],
    )
    for _ in range(2):
        gamma = rng.uniform(0.3, 0.7)
        long_case(
            10 ** rng.uniform(-3, 0),
            [100, 150, 200, 300],
            [sub("LambdaLR", lr_lambda="pow095"), sub("ExponentialLR", gamma=gamma)],
        )


def refused(cls: str, n_steps: int, **kwargs) -> None:
    """What PyTorch refuses, built or stepped: the exception it raises."""
    try:
        opt = optimizer(0.1)
        sched = build(opt, cls, kwargs)
        for _ in range(n_steps):
            opt.step()
            sched.step()
    except (ValueError, ZeroDivisionError) as e:
        REFUSED.append({"class": cls, "kwargs": kwargs, "error": type(e).__name__})
        return
    raise AssertionError(f"torch accepts {cls}({kwargs})")


def gen_switch(rng: random.Random) -> None:
    """SequentialLR switches with step(0), the closed form at epoch 0 (_get_closed_form_lr),
    which for total_iters <= 0 is not the rate the scheduler starts with, and is kept."""
    expo = sub("ExponentialLR", gamma=0.9)
    odd = [
        sub("ConstantLR", factor=0.5, total_iters=0),
        sub("ConstantLR", factor=0.25, total_iters=-2),
        sub("ConstantLR", factor=0.0, total_iters=0),
        sub("LinearLR", start_factor=0.5, end_factor=0.2, total_iters=-1),
        sub("LinearLR", start_factor=0.3, end_factor=0.0, total_iters=-4),
        sub("PolynomialLR", total_iters=-1),
        sub("PolynomialLR", total_iters=-3, power=2.5),
        sub("PolynomialLR", total_iters=-1, power=0.0),
        sub("PolynomialLR", total_iters=4, power=0.0),
    ]
    ordinary = [
        sub("ConstantLR", factor=0.5, total_iters=3),
        sub("LinearLR", start_factor=0.5, end_factor=0.2, total_iters=4),
        sub("PolynomialLR", total_iters=4, power=2.0),
        sub("ExponentialLR", gamma=0.8),
        sub("StepLR", step_size=2, gamma=0.5),
        sub("MultiStepLR", milestones=[0, 2, 5], gamma=0.5),
        sub("CosineAnnealingWarmRestarts", T_0=3, T_mult=2),
        sub("CosineAnnealingLR", T_max=3),
    ]
    for x in odd + ordinary:
        case("SequentialLR", 1.0, 10, schedulers=[expo, x], milestones=[3])  # switched to
        case("SequentialLR", 1.0, 10, schedulers=[x, expo], milestones=[4])  # first
        case("SequentialLR", 1.0, 10, schedulers=[expo, x], milestones=[0])  # started at 0
    zero = [sub("LinearLR", start_factor=0.5, total_iters=0), sub("PolynomialLR", total_iters=0)]
    for x in zero:  # fine where they start, not where step(0) switches to them
        case("SequentialLR", 1.0, 10, schedulers=[x, expo], milestones=[4])
        case("SequentialLR", 1.0, 10, schedulers=[expo, x], milestones=[0])
        case("SequentialLR", 1.0, 10, schedulers=[expo, x, expo], milestones=[0, 5])
    for _ in range(3):
        m = sorted(rng.sample(range(1, 12), 2))
        case(
            "SequentialLR",
            10 ** rng.uniform(-3, 0),
            16,
            schedulers=[rng.choice(odd + ordinary), rng.choice(odd), rng.choice(odd + ordinary)],
            milestones=m,
        )
    # In a chain: step(0)'s closed form overwrites the rate the others left.
    case(
        "ChainedScheduler",
        1.0,
        10,
        schedulers=[
            sub("ExponentialLR", gamma=0.9),
            sub(
                "SequentialLR", schedulers=[sub("ExponentialLR", gamma=0.8), odd[0]], milestones=[3]
            ),
        ],
    )
    case(
        "ChainedScheduler",
        1.0,
        10,
        schedulers=[
            sub(
                "SequentialLR", schedulers=[sub("ExponentialLR", gamma=0.8), odd[3]], milestones=[3]
            ),
            sub("CosineAnnealingLR", T_max=5),
        ],
    )
    for x in [*zero, sub("PolynomialLR", total_iters=-2, power=-1.0)]:
        refused("SequentialLR", 10, schedulers=[expo, x], milestones=[3])
    refused("OneCycleLR", 0, max_lr=0.1, total_steps=100.5)
    refused("OneCycleLR", 0, max_lr=0.1, epochs=2.5, steps_per_epoch=4)
    refused("OneCycleLR", 0, max_lr=0.1, epochs=2, steps_per_epoch=4.5)
    refused("ConstantLR", 10, factor=0.0, total_iters=3)


def momentum_case(cls: str, kind: str, n_steps: int, **kwargs) -> None:
    opt = optimizer(0.1, kind, **({"momentum": 0.5} if kind == "sgd" else {}))
    sched = getattr(lr_scheduler, cls)(opt, **kwargs)
    lrs, momentums = [], []
    for t in range(n_steps + 1):
        group = opt.param_groups[0]
        lrs.append(float(group["lr"]))
        momentums.append(float(group["betas"][0] if kind == "adam" else group["momentum"]))
        if t < n_steps:
            opt.step()
            sched.step()
    MOMENTUM.append(
        {"class": cls, "kwargs": kwargs, "optimizer": kind, "lrs": lrs, "momentums": momentums}
    )


def gen_momentum(rng: random.Random) -> None:
    momentum_case("OneCycleLR", "sgd", 100, max_lr=0.1, total_steps=100)
    momentum_case("OneCycleLR", "adam", 100, max_lr=0.1, total_steps=100, three_phase=True)
    momentum_case(
        "OneCycleLR", "sgd", 60, max_lr=0.3, total_steps=60, anneal_strategy="linear", pct_start=0.4
    )
    momentum_case("CyclicLR", "sgd", 60, base_lr=0.01, max_lr=0.1, step_size_up=7)
    momentum_case(
        "CyclicLR",
        "adam",
        60,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=5,
        step_size_down=9,
        mode="triangular2",
    )
    momentum_case(
        "CyclicLR",
        "sgd",
        80,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=6,
        mode="exp_range",
        gamma=0.97,
    )
    for _ in range(4):
        base = rng.uniform(0.5, 0.9)
        top = rng.uniform(base, 0.99)
        three = rng.random() < 0.5
        momentum_case(
            "OneCycleLR",
            rng.choice(["sgd", "adam"]),
            80,
            max_lr=10 ** rng.uniform(-3, 0),
            total_steps=80,
            pct_start=rng.uniform(0.1, 0.45),
            three_phase=three,
            anneal_strategy=rng.choice(["cos", "linear"]),
            base_momentum=base,
            max_momentum=top,
        )
        momentum_case(
            "CyclicLR",
            rng.choice(["sgd", "adam"]),
            80,
            base_lr=1e-3,
            max_lr=1e-2,
            step_size_up=rng.randint(1, 20),
            step_size_down=rng.choice([None, rng.randint(1, 20)]),
            mode=rng.choice(["triangular", "triangular2", "exp_range"]),
            gamma=rng.uniform(0.9, 1.0),
            base_momentum=base,
            max_momentum=top,
        )


def plateau_case(lr: float, metrics: list[float], **kwargs) -> None:
    opt = optimizer(lr)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    lrs = [float(opt.param_groups[0]["lr"])]
    for m in metrics:
        sched.step(m)
        lrs.append(float(opt.param_groups[0]["lr"]))
    PLATEAU.append({"lr": lr, "kwargs": kwargs, "metrics": metrics, "lrs": lrs})


def walk(rng: random.Random, n: int, direction: float) -> list[float]:
    """A metric that improves, then stalls and jitters: plateaus and reductions."""
    x, out = 1.0, []
    for i in range(n):
        drift = direction * (0.05 if i < n // 3 else 0.002)
        x = x * (1 + drift) + rng.gauss(0, 0.01)
        out.append(x)
    return out


def gen_plateau(rng: random.Random) -> None:
    plateau_case(0.1, walk(rng, 60, -1), patience=3)
    plateau_case(0.1, walk(rng, 60, 1), mode="max", patience=3)
    for mode in ("min", "max"):
        for threshold_mode in ("rel", "abs"):
            for _ in range(3):
                plateau_case(
                    10 ** rng.uniform(-3, 0),
                    walk(rng, 60, -1 if mode == "min" else 1),
                    mode=mode,
                    threshold_mode=threshold_mode,
                    factor=rng.uniform(0.1, 0.9),
                    patience=rng.randint(0, 5),
                    threshold=rng.choice([0.0, 1e-4, 1e-2]),
                    cooldown=rng.randint(0, 3),
                    min_lr=rng.choice([0.0, 1e-4]),
                )
    plateau_case(0.1, [1.0] * 40, patience=0, factor=0.5, min_lr=0.01)  # floored at min_lr
    plateau_case(1e-7, [1.0] * 20, patience=1, factor=0.5)  # below eps: not reduced
    plateau_case(0.1, [1.0] * 20, patience=1, factor=0.5, eps=0.02)
    plateau_case(0.1, [float(i % 4) for i in range(40)], patience=2, cooldown=2)


def gen_initial_lr(rng: random.Random) -> None:
    """A CyclicLR built after a OneCycleLR takes its first step at the optimizer's
    initial_lr, which the OneCycleLR set to max_lr / div_factor: not its own first value
    where pct_start * total_steps < 1 starts it on the way down, and also where the
    OneCycleLR stands in a nested SequentialLR."""
    for pct in (0.0, 0.02, 0.3):
        lr, total = rng.uniform(0.1, 2.0), rng.randint(31, 60)
        one = sub(
            "OneCycleLR",
            max_lr=rng.uniform(0.5, 3.0),
            total_steps=total,
            pct_start=pct,
            div_factor=rng.uniform(2.0, 30.0),
            cycle_momentum=False,
        )
        low = rng.uniform(0.01, 0.5)
        cyclic = sub(
            "CyclicLR",
            base_lr=low,
            max_lr=low * rng.uniform(1.5, 5.0),
            step_size_up=rng.randint(1, 8),
            cycle_momentum=False,
        )
        case("ChainedScheduler", lr, 30, schedulers=[one, cyclic])
        step = sub("StepLR", step_size=rng.randint(1, 5), gamma=rng.uniform(0.3, 0.9))
        nested = sub("SequentialLR", schedulers=[one, step], milestones=[rng.randint(1, 29)])
        case("ChainedScheduler", lr, 30, schedulers=[nested, cyclic])


def _one_cycle(rng: random.Random, three_phase: bool, anneal: str) -> dict:
    return sub(
        "OneCycleLR",
        max_lr=rng.uniform(0.5, 3.0),
        total_steps=rng.randint(41, 60),  # none steps past its end (PyTorch raises)
        pct_start=rng.uniform(0.1, 0.5),
        div_factor=rng.uniform(2.0, 30.0),
        final_div_factor=rng.uniform(10.0, 1e4),
        three_phase=three_phase,
        anneal_strategy=anneal,
        cycle_momentum=False,
    )


def gen_shared_one_cycle(rng: random.Random) -> None:
    """Two OneCycleLRs on one optimizer: each reads max_lr, initial_lr and min_lr from the
    param group, where the last one built left its own; in a SequentialLR, and in a chain
    where a OneCycleLR built first is scaled by a StepLR running in a SequentialLR."""
    for three_phase, anneal in ((False, "cos"), (True, "linear"), (False, "linear")):
        lr = rng.uniform(0.1, 2.0)
        first, second = _one_cycle(rng, three_phase, anneal), _one_cycle(rng, three_phase, anneal)
        milestone = rng.randint(5, 15)
        case("SequentialLR", lr, 40, schedulers=[first, second], milestones=[milestone])
        step = sub("StepLR", step_size=rng.randint(2, 6), gamma=rng.uniform(0.3, 0.9))
        nested = sub("SequentialLR", schedulers=[second, step], milestones=[milestone])
        # The StepLR's base is the initial_lr the second OneCycleLR set, not lr.
        case("ChainedScheduler", lr, 40, schedulers=[first, nested])


def gen_negative_milestones(rng: random.Random) -> None:
    """A MultiStepLR's negative milestones never fire on its own, but the closed form that
    SequentialLR's step(0) sets at a milestone m > 0 counts them: lr * gamma ** #{<= 0}."""
    expo = sub("ExponentialLR", gamma=0.9)
    early = sub("MultiStepLR", milestones=[-3, -1, 0, 4], gamma=0.5)
    case("SequentialLR", 1.0, 12, schedulers=[expo, early], milestones=[3])  # switched to
    case("SequentialLR", 1.0, 12, schedulers=[early, expo], milestones=[6])  # first
    case("SequentialLR", 1.0, 12, schedulers=[expo, early], milestones=[0])  # started at 0
    case("ChainedScheduler", 1.0, 12, schedulers=[
        sub("CosineAnnealingLR", T_max=5),
        sub("SequentialLR", schedulers=[expo, early], milestones=[2]),
    ])  # fmt: skip
    for _ in range(6):
        milestones = rng.sample(range(-6, 20), rng.randint(1, 4))  # unsorted, some negative
        multistep = sub("MultiStepLR", milestones=milestones, gamma=rng.uniform(0.2, 0.9))
        first = sub("StepLR", step_size=rng.randint(1, 5), gamma=rng.uniform(0.5, 1.0))
        m = rng.randint(1, 15)
        case("SequentialLR", 10 ** rng.uniform(-3, 0), 24, schedulers=[first, multistep],
             milestones=[m])  # fmt: skip


def gen_sequential_initial_lr(rng: random.Random) -> None:
    """A SequentialLR resets the rate to the optimizer's initial_lr, which a OneCycleLR
    (max_lr / div_factor) or a CyclicLR built first (base_lr) replaced: the scheduler
    that runs from the construction goes on from there (CosineAnnealingLR until its first
    bottom, LambdaLR and CosineAnnealingWarmRestarts read their base_lrs instead), and
    one built after a OneCycleLR takes that initial_lr as its base when switched to."""

    def one_cycle() -> dict:
        return sub("OneCycleLR", max_lr=rng.uniform(0.5, 3.0), total_steps=80,
                   pct_start=rng.uniform(0.1, 0.5), div_factor=rng.uniform(2.0, 30.0),
                   cycle_momentum=False)  # fmt: skip

    def cyclic() -> dict:
        low = rng.uniform(0.01, 0.5)
        return sub("CyclicLR", base_lr=low, max_lr=low * rng.uniform(1.5, 5.0),
                   step_size_up=rng.randint(1, 8), cycle_momentum=False)  # fmt: skip

    plain = [
        sub("LinearLR", start_factor=0.2, end_factor=0.9, total_iters=12),
        sub("StepLR", step_size=4, gamma=0.5),
        sub("CosineAnnealingLR", T_max=6, eta_min=0.01),
        sub("LambdaLR", lr_lambda="pow095"),
        sub("MultiplicativeLR", lr_lambda="const09"),
        sub("CosineAnnealingWarmRestarts", T_0=5, T_mult=2, eta_min=0.02),
        sub("ConstantLR", factor=0.3, total_iters=7),
    ]
    for i, other in enumerate(plain):
        lr = 10 ** rng.uniform(-2, 0)
        first = [other, one_cycle()] if i % 2 == 0 else [one_cycle(), other]
        case("SequentialLR", lr, 40, schedulers=first, milestones=[rng.randint(15, 25)])
        case("SequentialLR", lr, 40, schedulers=[cyclic(), other], milestones=[rng.randint(3, 25)])
    case("SequentialLR", 0.2, 40, schedulers=[cyclic(), plain[0], one_cycle()], milestones=[0, 30])
    case("SequentialLR", 0.2, 40, schedulers=[plain[2], plain[1], one_cycle()], milestones=[20, 30])
    # Two OneCycleLRs: a scheduler built between them is built on the first one's
    # initial_lr, while both read the last one's rates.
    pair = [one_cycle(), plain[1], one_cycle()]
    case("SequentialLR", 0.3, 40, schedulers=pair, milestones=[8, 20])
    later = sub("SequentialLR", schedulers=[sub("ExponentialLR", gamma=0.95), one_cycle()],
                milestones=[30])  # fmt: skip
    case("ChainedScheduler", 0.3, 40, schedulers=[one_cycle(), plain[3], later])


COMBINED_MOMENTUM: list[dict] = []


def combined_momentum_case(kind: str, n_steps: int, cls: str, schedulers: list, **kw) -> None:
    """The momentum PyTorch leaves after t steps of a SequentialLR or ChainedScheduler."""
    opt = optimizer(0.1, kind, **({"momentum": 0.5} if kind == "sgd" else {}))
    kwargs = {"schedulers": schedulers, **kw}
    sched = build(opt, cls, kwargs)
    momentums = []
    for t in range(n_steps + 1):
        group = opt.param_groups[0]
        momentums.append(float(group["betas"][0] if kind == "adam" else group["momentum"]))
        if t < n_steps:
            opt.step()
            sched.step()
    COMBINED_MOMENTUM.append(
        {"class": cls, "lr": 0.1, "kwargs": kwargs, "optimizer": kind, "momentums": momentums}
    )


def _cycler(rng: random.Random) -> dict:
    """A OneCycleLR (of 80 steps: never stepped past its end) or a CyclicLR, cycling the
    momentum, between drawn bounds or the defaults."""
    bounds = {}
    if rng.random() < 0.7:
        base = rng.uniform(0.5, 0.9)
        bounds = {"base_momentum": base, "max_momentum": rng.uniform(base, 0.99)}
    if rng.random() < 0.5:
        return sub("OneCycleLR", max_lr=rng.uniform(0.1, 1.0), total_steps=80,
                   pct_start=rng.uniform(0.1, 0.5), three_phase=rng.random() < 0.3,
                   anneal_strategy=rng.choice(["cos", "linear"]), **bounds)  # fmt: skip
    return sub("CyclicLR", base_lr=rng.uniform(0.01, 0.05), max_lr=rng.uniform(0.1, 0.5),
               step_size_up=rng.randint(1, 10), mode=rng.choice(["triangular", "triangular2"]),
               **bounds)  # fmt: skip


def _plain(rng: random.Random) -> dict:
    return rng.choice([
        sub("StepLR", step_size=rng.randint(1, 8), gamma=rng.uniform(0.3, 1.0)),
        sub("LinearLR", start_factor=rng.uniform(0.1, 1.0), total_iters=rng.randint(1, 20)),
        sub("ExponentialLR", gamma=rng.uniform(0.9, 1.0)),
        sub("CosineAnnealingLR", T_max=rng.randint(1, 30)),
    ])  # fmt: skip


def gen_combined_momentum(rng: random.Random) -> None:
    """The momentum of a SequentialLR or ChainedScheduler holding OneCycleLR or CyclicLR:
    each writes it when built and at its every step; a SequentialLR's only while it runs
    (from step(0) at its milestone), the last value staying after it; in a chain the last
    to write it wins; a OneCycleLR reads max_momentum and base_momentum from the param
    group, where the last cycler built wrote them."""
    one = sub("OneCycleLR", max_lr=0.5, total_steps=80, pct_start=0.3)
    cyc = sub("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=6, base_momentum=0.7,
              max_momentum=0.95)  # fmt: skip
    warm = sub("LinearLR", start_factor=0.1, total_iters=10)
    step = sub("StepLR", step_size=5, gamma=0.5)
    for kind in ("sgd", "adam"):
        combined_momentum_case(kind, 60, "SequentialLR", [warm, one], milestones=[10])
        combined_momentum_case(kind, 60, "SequentialLR", [one, step], milestones=[25])
        combined_momentum_case(kind, 60, "SequentialLR", [cyc, step, one], milestones=[0, 20])
        combined_momentum_case(kind, 60, "ChainedScheduler", [cyc, one])  # one reads cyc's bounds
        combined_momentum_case(kind, 60, "ChainedScheduler", [one, step])
    nested = sub("SequentialLR", schedulers=[step, one], milestones=[15])
    combined_momentum_case("sgd", 60, "ChainedScheduler", [cyc, nested])
    combined_momentum_case("sgd", 60, "ChainedScheduler", [nested, cyc])
    for _ in range(16):
        members = [_cycler(rng) if rng.random() < 0.5 else _plain(rng) for _ in range(3)]
        members[rng.randrange(3)] = _cycler(rng)  # at least one
        kind = rng.choice(["sgd", "adam"])
        if rng.random() < 0.5:
            milestones = sorted(rng.sample(range(0, 40), 2))
            combined_momentum_case(kind, 70, "SequentialLR", members, milestones=milestones)
        else:
            if rng.random() < 0.5:
                inner = [_plain(rng), _cycler(rng)]
                rng.shuffle(inner)
                members[rng.randrange(3)] = sub(
                    "SequentialLR", schedulers=inner, milestones=[rng.randint(1, 40)]
                )
            combined_momentum_case(kind, 70, "ChainedScheduler", members)


def main() -> None:
    rng = random.Random(SEED)
    gens = (gen_lambdas, gen_sequential, gen_chained, gen_momentum, gen_plateau, gen_history)
    # New generators go last, so that the others' draws stay as they were.
    later = (gen_underflow, gen_switch, gen_initial_lr, gen_shared_one_cycle)
    for gen in (
        *gens,
        *later,
        gen_negative_milestones,
        gen_combined_momentum,
        gen_sequential_initial_lr,
    ):
        gen(random.Random(rng.getrandbits(64)))
    write_json(
        HERE / "torch_more.json",
        {"torch_version": torch.__version__, "lambdas": LAMBDA_SOURCE},
        {
            "cases": CASES,
            "momentum_cases": MOMENTUM,
            "plateau_cases": PLATEAU,
            "chain_cases": CHAINS,
            "long_cases": LONG,
            "refused_cases": REFUSED,
            "combined_momentum_cases": COMBINED_MOMENTUM,
        },
    )
    print(
        f"torch {torch.__version__}: {len(CASES)} cases, {len(MOMENTUM)} momentum, "
        f"{len(PLATEAU)} plateau, {len(CHAINS)} chains, {len(LONG)} long, {len(REFUSED)} refused, "
        f"{len(COMBINED_MOMENTUM)} combined momentum"
    )


if __name__ == "__main__":
    main()
