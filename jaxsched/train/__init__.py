"""Training many schedule configurations x seeds of a Flax model in one compiled program.

Needs the ``train`` extra: ``pip install 'jaxsched[train]'``.
"""

from jaxsched.train import callbacks
from jaxsched.train.callbacks import TensorBoard
from jaxsched.train.data import Dataset, load
from jaxsched.train.models import CNN, MLP, build
from jaxsched.train.range_test import LRFindResult, lr_find
from jaxsched.train.result import Result
from jaxsched.train.trainer import fit

__all__ = [
    "CNN",
    "MLP",
    "Dataset",
    "LRFindResult",
    "Result",
    "TensorBoard",
    "build",
    "callbacks",
    "fit",
    "load",
    "lr_find",
]
