"""Training many schedule configurations x seeds of a Flax model in one compiled program.

Needs the ``train`` extra: ``pip install 'jaxsched[train]'``.
"""

from jaxsched.train.data import Dataset, load
from jaxsched.train.fit import fit
from jaxsched.train.models import CNN, MLP, build
from jaxsched.train.result import Result

__all__ = ["CNN", "MLP", "Dataset", "Result", "build", "fit", "load"]
