"""The schedule comparison: which schedule family trains best, measured on real data.

`run_study` sweeps every family's hyperparameters (base rate on a log grid x the
family's own parameters) for several seeds through `jaxsched.train.fit`, one
compiled program per task x optimizer, picks each family's configuration on
validation accuracy and reports its test accuracy. `jaxsched.experiments.report`
writes the tables, CSV/JSON and plots; `jaxsched.experiments.sweep_file` reads
the TOML files of ``jaxsched sweep``. The command line wraps both:
``jaxsched compare`` and ``jaxsched sweep CONFIG.toml``.

Needs the ``train`` and ``experiments`` extras: ``pip install 'jaxsched[train,experiments]'``.
"""

from jaxsched.experiments.compare import FamilyRow, Study, TaskRun, run_study, summarize
from jaxsched.experiments.families import FAMILIES, Candidate, search_space
from jaxsched.experiments.tasks import BUDGETS, OPTIMIZERS, Budget, Task, base_rates, optimizer

__all__ = [
    "BUDGETS",
    "FAMILIES",
    "OPTIMIZERS",
    "Budget",
    "Candidate",
    "FamilyRow",
    "Study",
    "Task",
    "TaskRun",
    "base_rates",
    "optimizer",
    "run_study",
    "search_space",
    "summarize",
]
