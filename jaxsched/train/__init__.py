"""Training many schedule configurations at once (in progress: data and models so far).

Needs the ``train`` extra: ``pip install 'jaxsched[train]'``.
"""

from jaxsched.train.data import Dataset, load
from jaxsched.train.models import CNN, MLP, build

__all__ = ["CNN", "MLP", "Dataset", "build", "load"]
