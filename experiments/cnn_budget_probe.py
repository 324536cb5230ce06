"""How many steps the MNIST-1D CNN needs: constant and warmup + cosine rates over the
default grid, 2 seeds, test accuracy at four evaluations.

    python experiments/cnn_budget_probe.py STEPS

Prints one line per optimizer x schedule x rate: validation and test accuracy (mean over
the seeds) at steps/4, steps/2, 3 steps/4 and steps. What chose the default study's
2000 CNN steps (jaxsched/experiments/tasks.py; the figures are in experiments/RESULTS.md).
"""

import sys
import warnings

import numpy as np
import optax

import jaxsched
from jaxsched.train import fit

warnings.simplefilter("ignore")
steps = int(sys.argv[1])
grids = [
    ("sgd", lambda lr: optax.sgd(lr, momentum=0.9), [0.01, 0.0316, 0.1, 0.316]),
    ("adam", optax.adam, [0.001, 0.00316, 0.01, 0.0316]),
]
for name, opt, rates in grids:
    warm = steps // 10
    batch = jaxsched.stack(
        [jaxsched.constant(r) for r in rates]
        + [jaxsched.warmup(jaxsched.cosine(r, steps - warm), warm) for r in rates]
    )
    res = fit(
        batch,
        data="mnist1d",
        model="cnn",
        optimizer=opt,
        steps=steps,
        eval_every=steps // 4,
        seeds=2,
        keep_weights="none",
        progress=False,
    )
    test, val = res.metrics["test_acc"].mean(0), res.metrics["val_acc"].mean(0)
    for i, r in enumerate(rates * 2):
        kind = "constant" if i < len(rates) else "warmup+cosine"
        print(
            name,
            steps,
            kind,
            r,
            "val",
            np.round(val[i], 3).tolist(),
            "test",
            np.round(test[i], 3).tolist(),
            flush=True,
        )
