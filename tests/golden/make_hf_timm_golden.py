"""Generate Hugging Face and timm golden values for ``jaxsched.compat.transformers`` and
``jaxsched.compat.timm``.

Run from the repository root, in an environment with torch, transformers and timm::

    python tests/golden/make_hf_timm_golden.py

(The test suite never imports them; it reads the JSON written here.) Deterministic:
random arguments come from a fixed seed. timm's scheduler modules are loaded by path,
so timm's models (and torchvision) are never imported.

It writes ``hf_timm.json``: ``{"versions", "transformers": [...], "timm": [...]}``.
A Hugging Face case is ``{"name", "lr", "num_warmup_steps", "num_training_steps",
"kwargs", "lrs", "tags"}``: ``lrs[t]`` is ``optimizer.param_groups[0]["lr"]`` after
``t`` calls of ``scheduler.step()`` on ``get_scheduler(name, SGD(lr), ...)``. A timm
case is ``{"class", "lr", "kwargs", "lrs", "tags"}``: ``lrs[t]`` is
``scheduler._get_lr(t)[0]``. ``tags`` holds ``"default"`` for the documented
defaults, ``"edge"`` for corner cases and ``"random"`` for random arguments.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import math
import random
import sys
import types
import warnings
from pathlib import Path

import torch
import transformers

HERE = Path(__file__).resolve().parent
SEED = 20261125
MAX_STEPS = 160


def load_timm_schedulers():
    """timm.scheduler's modules, loaded by path without importing timm's package."""
    spec = importlib.util.find_spec("timm")
    root = Path(spec.submodule_search_locations[0]) / "scheduler"
    for name in ("timm", "timm.scheduler"):
        package = types.ModuleType(name)
        package.__path__ = [str(root if name.endswith("scheduler") else root.parent)]
        sys.modules[name] = package
    modules = {}
    for stem in ("scheduler", "cosine_lr", "tanh_lr", "step_lr", "multistep_lr", "poly_lr"):
        full = f"timm.scheduler.{stem}"
        module_spec = importlib.util.spec_from_file_location(full, root / f"{stem}.py")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[full] = module
        module_spec.loader.exec_module(module)
        modules[stem] = module
    return {
        "CosineLRScheduler": modules["cosine_lr"].CosineLRScheduler,
        "TanhLRScheduler": modules["tanh_lr"].TanhLRScheduler,
        "StepLRScheduler": modules["step_lr"].StepLRScheduler,
        "MultiStepLRScheduler": modules["multistep_lr"].MultiStepLRScheduler,
        "PolyLRScheduler": modules["poly_lr"].PolyLRScheduler,
    }


TIMM = load_timm_schedulers()


def optimizer(lr: float) -> torch.optim.SGD:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


HF: list[dict] = []
TIMM_CASES: list[dict] = []


def hf(name, lr, w, n, steps=None, tags=("random",), **kwargs):
    opt = optimizer(lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = transformers.get_scheduler(
            name, opt, num_warmup_steps=w, num_training_steps=n, scheduler_specific_kwargs=kwargs
        )
        lrs = []
        for _ in range(min(steps or int(1.3 * (n or w or 50)) + 5, MAX_STEPS) + 1):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    HF.append(
        {
            "name": name,
            "lr": lr,
            "num_warmup_steps": w,
            "num_training_steps": n,
            "kwargs": kwargs,
            "lrs": lrs,
            "tags": list(tags),
        }
    )


def timm(cls, lr, steps, tags=("random",), **kwargs):
    sched = TIMM[cls](optimizer(lr), **kwargs)
    lrs = []
    for t in range(min(steps, MAX_STEPS) + 1):
        try:
            lrs.append(sched._get_lr(t)[0])
        except ValueError:  # math.log of a negative: past the end of shrinking cycles
            break
    TIMM_CASES.append({"class": cls, "lr": lr, "kwargs": kwargs, "lrs": lrs, "tags": list(tags)})


def rlr(rng):
    return 10.0 ** rng.uniform(-4.0, 0.0)


def gen_hf(rng):
    d = ("default",)
    hf("constant", 0.1, None, None, steps=20, tags=d)
    hf("constant_with_warmup", 0.1, 10, None, tags=d)
    hf("constant_with_warmup", 0.1, 0, None, steps=10, tags=("edge",))
    hf("linear", 0.1, 10, 100, tags=d)
    hf("linear", 0.1, 0, 50, tags=("edge",))
    hf("linear", 0.1, 20, 10, steps=30, tags=("edge",))  # training shorter than warmup
    hf("linear", 0.1, 10, 10, steps=20, tags=("edge",))
    hf("cosine", 0.1, 10, 100, steps=160, tags=d)  # climbs back after 100
    hf("cosine", 0.1, 0, 40, steps=100, num_cycles=1.5)
    hf("cosine", 0.1, 10, 5, steps=30, tags=("edge",))
    hf("cosine_with_restarts", 0.1, 10, 100, tags=d)
    hf("cosine_with_restarts", 0.1, 0, 90, num_cycles=3)
    hf("cosine_with_restarts", 0.1, 10, 8, steps=20, tags=("edge",))
    hf("polynomial", 0.1, 10, 100, tags=d)
    hf("polynomial", 0.1, 0, 60, lr_end=1e-3, power=2.0)
    hf("inverse_sqrt", 0.1, 10, None, steps=100, tags=d)
    hf("inverse_sqrt", 0.1, 0, None, steps=50, tags=("edge",))  # timescale 10000
    hf("inverse_sqrt", 0.1, 5, None, steps=80, timescale=20)
    hf("cosine_with_min_lr", 0.1, 10, 100, tags=d, min_lr=1e-3)
    hf("cosine_with_min_lr", 0.1, 0, 60, min_lr_rate=0.1, num_cycles=1.0)
    hf("cosine_warmup_with_min_lr", 0.1, 10, 100, tags=d, min_lr_rate=0.05)
    hf("cosine_warmup_with_min_lr", 0.1, 10, 100, min_lr=1e-3, warmup_lr_rate=0.2)
    hf("cosine_warmup_with_min_lr", 0.1, 0, 50, tags=("edge",), min_lr_rate=0.0)
    hf("cosine_warmup_with_min_lr", 0.1, 1, 50, tags=("edge",), min_lr_rate=0.0, warmup_lr_rate=0.3)
    hf("warmup_stable_decay", 0.1, 10, 100, tags=d, num_decay_steps=20)
    hf("warmup_stable_decay", 0.1, 0, None, steps=60, num_decay_steps=20, num_stable_steps=30)
    for wt in ("linear", "cosine", "1-sqrt"):
        for dt in ("linear", "cosine", "1-sqrt"):
            hf(
                "warmup_stable_decay",
                rlr(rng),
                rng.randint(1, 30),
                rng.randint(80, 140),
                num_decay_steps=rng.randint(1, 40),
                warmup_type=wt,
                decay_type=dt,
                min_lr_ratio=rng.choice([0.0, rng.uniform(0, 0.5)]),
                num_cycles=rng.choice([0.5, rng.uniform(0.2, 1.5)]),
            )
    for _ in range(3):
        w, n = rng.randint(0, 30), rng.randint(31, 140)
        hf("linear", rlr(rng), w, n)
        hf("cosine", rlr(rng), w, n, num_cycles=rng.choice([0.5, rng.uniform(0.2, 2.0)]))
        hf("cosine_with_restarts", rlr(rng), w, n, num_cycles=rng.randint(1, 4))
        lr = rlr(rng)
        hf("polynomial", lr, w, n, lr_end=lr * rng.uniform(0, 0.5), power=rng.uniform(0.5, 3))
        hf("inverse_sqrt", rlr(rng), w, None, steps=140, timescale=rng.choice([None, 37]))
        hf("cosine_with_min_lr", rlr(rng), w, n, min_lr_rate=rng.uniform(0, 0.5))
        hf(
            "cosine_warmup_with_min_lr",
            rlr(rng),
            w,
            n,
            min_lr_rate=rng.uniform(0, 0.5),
            warmup_lr_rate=rng.choice([None, rng.uniform(0, 1)]),
            num_cycles=rng.choice([0.5, rng.uniform(0.2, 1.5)]),
        )


def gen_timm(rng):
    d = ("default",)
    timm("CosineLRScheduler", 0.1, 120, tags=d, t_initial=100)
    timm("CosineLRScheduler", 0.1, 160, t_initial=30, cycle_limit=4, cycle_decay=0.5, lr_min=1e-4)
    timm("CosineLRScheduler", 0.1, 160, t_initial=10, cycle_mul=2.0, cycle_limit=5, warmup_t=5)
    timm("CosineLRScheduler", 0.1, 120, t_initial=100, warmup_t=10, warmup_prefix=True, k_decay=2)
    timm("TanhLRScheduler", 0.1, 120, tags=d, t_initial=100)
    timm("TanhLRScheduler", 0.1, 140, t_initial=40, warmup_t=10, warmup_lr_init=1e-3)
    timm("TanhLRScheduler", 0.1, 140, t_initial=40, warmup_t=10, warmup_prefix=True, cycle_limit=3)
    timm("PolyLRScheduler", 0.1, 120, tags=d, t_initial=100)
    timm("PolyLRScheduler", 0.1, 160, t_initial=25, power=2.0, cycle_limit=5, k_decay=0.5)
    timm("StepLRScheduler", 0.1, 100, tags=d, decay_t=30)
    timm("StepLRScheduler", 0.1, 100, decay_t=30, decay_rate=0.1, warmup_t=5, warmup_lr_init=1e-4)
    timm("StepLRScheduler", 0.1, 60, decay_t=7, decay_rate=0.5, warmup_t=5, warmup_prefix=False)
    timm("MultiStepLRScheduler", 0.1, 100, tags=d, decay_t=[30, 60])
    timm("MultiStepLRScheduler", 0.1, 40, tags=("edge",), decay_t=[0, 1, 5, 5, 9], decay_rate=0.5)
    timm("MultiStepLRScheduler", 0.1, 60, decay_t=[10, 20], decay_rate=0.5, warmup_t=5)
    timm("MultiStepLRScheduler", 0.1, 60, decay_t=[3, 20], decay_rate=0.5, warmup_t=5,
         warmup_prefix=False)  # fmt: skip
    for _ in range(5):
        t_initial = rng.randint(1, 60)
        cycles = dict(
            t_initial=t_initial,
            lr_min=rng.choice([0.0, 10.0 ** rng.uniform(-6, -3)]),
            cycle_mul=rng.choice([1.0, 1.0, 2.0, 1.5, 0.8]),
            cycle_decay=rng.choice([1.0, rng.uniform(0.3, 1.0)]),
            cycle_limit=rng.randint(0, 6),
            warmup_t=rng.choice([0, rng.randint(1, 20)]),
            warmup_lr_init=rng.choice([0.0, 1e-5]),
            warmup_prefix=rng.random() < 0.5,
        )
        timm("CosineLRScheduler", rlr(rng), 160, k_decay=rng.choice([1.0, 0.5, 2.0]), **cycles)
        timm("PolyLRScheduler", rlr(rng), 160, power=rng.uniform(0.3, 3), **cycles)
        lb = rng.uniform(-8, 0)
        timm("TanhLRScheduler", rlr(rng), 160, lb=lb, ub=lb + rng.uniform(1, 10), **cycles)
        warm = dict(
            warmup_t=rng.choice([0, rng.randint(1, 20)]),
            warmup_lr_init=rng.choice([0.0, 1e-5]),
            warmup_prefix=rng.random() < 0.5,
        )
        rate = rng.uniform(0.1, 1.0)
        timm("StepLRScheduler", rlr(rng), 120, decay_t=rng.randint(1, 40), decay_rate=rate, **warm)
        milestones = sorted(rng.randint(0, 100) for _ in range(rng.randint(1, 5)))
        timm("MultiStepLRScheduler", rlr(rng), 120, decay_t=milestones, decay_rate=rate, **warm)


def gen_accepted() -> None:
    """Arguments Hugging Face and timm take that an audit found refused here (no random
    draws: the cases above keep their values)."""
    e = ("edge",)
    # Training shorter than the warmup: the warmup, then lr_end (polynomial) or the
    # decay already under way or over (warmup_stable_decay's negative stable phase).
    hf("polynomial", 0.1, 10, 5, steps=30, tags=e)
    hf("polynomial", 0.1, 10, 0, steps=30, tags=e, lr_end=1e-3, power=2.0)
    hf("polynomial", 0.1, 1, 0, steps=10, tags=e, lr_end=1e-3)
    hf("cosine_with_min_lr", 0.1, 10, 5, steps=30, tags=e, min_lr_rate=0.1)
    hf("cosine_warmup_with_min_lr", 0.1, 10, 5, steps=30, tags=e, min_lr_rate=0.1)
    hf("warmup_stable_decay", 0.1, 10, 15, steps=40, tags=e, num_decay_steps=10)
    hf("warmup_stable_decay", 0.1, 10, 5, steps=30, tags=e, num_decay_steps=10,
       decay_type="1-sqrt", min_lr_ratio=0.1)  # fmt: skip
    hf("warmup_stable_decay", 0.1, 4, None, steps=30, tags=e, num_decay_steps=12,
       num_stable_steps=-3, warmup_type="cosine", decay_type="linear")  # fmt: skip
    # decay_rate=0: lr, then 0 from the first decay on (0 ** 0 = 1).
    timm("StepLRScheduler", 0.1, 30, tags=e, decay_t=3, decay_rate=0.0)
    timm("StepLRScheduler", 0.1, 30, tags=e, decay_t=3, decay_rate=0.0, warmup_t=5)
    timm("StepLRScheduler", 0.1, 30, tags=e, decay_t=3, decay_rate=0.0, warmup_t=5,
         warmup_prefix=False, warmup_lr_init=1e-3)  # fmt: skip
    timm("MultiStepLRScheduler", 0.1, 30, tags=e, decay_t=[3, 6], decay_rate=0.0)
    timm("MultiStepLRScheduler", 0.1, 30, tags=e, decay_t=[1, 6], decay_rate=0.0, warmup_t=4)
    timm("MultiStepLRScheduler", 0.1, 30, tags=e, decay_t=[7, 9], decay_rate=0.0, warmup_t=4,
         warmup_prefix=False)  # fmt: skip


def gen_boundaries() -> None:
    """Cycles that start exactly on a whole step where timm's float64
    ``floor(log(1 - t / T * (1 - m), m))`` rounds down (``log(1000, 10) = 2.9999...``), so
    timm gives the previous cycle's end there: 111 (m=10), 121 (m=3), 18 (m=0.8). jaxsched
    restarts exactly; tests/test_hf_timm_parity.py pins both (tag "boundary")."""
    b = ("boundary",)
    cycles = dict(t_initial=1, cycle_limit=100)
    timm("CosineLRScheduler", 1.0, 160, tags=b, lr_min=0.01, cycle_mul=10.0, **cycles)
    timm("CosineLRScheduler", 0.1, 160, tags=b, cycle_mul=3.0, **cycles)
    timm("TanhLRScheduler", 1.0, 160, tags=b, lr_min=0.01, cycle_mul=3.0, **cycles)
    timm("PolyLRScheduler", 1.0, 160, tags=b, lr_min=0.01, cycle_mul=10.0, cycle_decay=0.5,
         **cycles)  # fmt: skip
    timm("CosineLRScheduler", 1.0, 40, tags=b, t_initial=10, cycle_mul=0.8, cycle_limit=100)


def main() -> None:
    rng = random.Random(SEED)
    gen_hf(rng)
    gen_timm(rng)
    gen_accepted()
    gen_boundaries()
    for case in HF + TIMM_CASES:
        assert all(math.isfinite(v) for v in case["lrs"]), case
    out = {
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "timm": importlib.metadata.version("timm"),
        },
        "transformers": HF,
        "timm": TIMM_CASES,
    }
    path = HERE / "hf_timm.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"{path}: {len(HF)} transformers cases, {len(TIMM_CASES)} timm cases")


if __name__ == "__main__":
    main()
