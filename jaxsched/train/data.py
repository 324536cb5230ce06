"""Datasets for schedule sweeps: MNIST-1D, scikit-learn digits, or a user's ``.npz``.

Nothing is downloaded: MNIST-1D is generated offline with the ``mnist1d``
package (the published arrays: 4000 train / 1000 test, 40 features), digits
ships with scikit-learn. A validation split is carved from the training set
once, with a fixed seed, so every configuration and seed is selected on the
same validation examples and reported on the untouched test set.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

__all__ = ["BUILTIN", "Dataset", "load"]

BUILTIN = ("mnist1d", "digits")
_NPZ_KEYS = ("x", "y", "x_test", "y_test")
_SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train, validation and test arrays: ``x`` float32 ``[n, ...]``, ``y`` int32 ``[n]``."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example (``(40,)`` for MNIST-1D)."""
        return tuple(self.x_train.shape[1:])


def load(data: str | Path, val_fraction: float = 0.1) -> Dataset:
    """Load ``"mnist1d"``, ``"digits"``, or an ``.npz`` file with ``x, y, x_test, y_test``.

    Args:
      data: a built-in name or a path to an ``.npz`` file.
      val_fraction: the part of the training set held out for validation, in [0, 1).

    Example:
      >>> from jaxsched.train.data import load
      >>> ds = load("digits")
      >>> ds.input_shape, ds.n_classes, len(ds.x_train) + len(ds.x_val), len(ds.x_test)
      ((64,), 10, 1438, 359)
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    if isinstance(data, str) and data in BUILTIN:
        name = data
        x, y, x_test, y_test = _mnist1d() if data == "mnist1d" else _digits()
    elif isinstance(data, str | Path) and str(data).endswith(".npz"):
        name = Path(data).stem
        x, y, x_test, y_test = _npz(Path(data))
    else:
        raise ValueError(
            f"unknown data {data!r}: use one of {', '.join(BUILTIN)} or a path to an .npz file "
            f"with arrays {', '.join(_NPZ_KEYS)}"
        )
    x, y, x_test, y_test = _check(name, x, y, x_test, y_test)
    n_classes = int(max(y.max(), y_test.max())) + 1
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(x))
    n_val = round(val_fraction * len(x))
    if n_val and len(x) - n_val < 1:
        raise ValueError(f"{name}: val_fraction={val_fraction} leaves no training examples")
    val, train = order[:n_val], order[n_val:]
    return Dataset(name, x[train], y[train], x[val], y[val], x_test, y_test, n_classes)


@functools.cache
def _mnist1d() -> tuple[np.ndarray, ...]:
    """The published MNIST-1D arrays, generated once per process (about 2 s)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise ValueError("data='mnist1d' needs the mnist1d package: pip install mnist1d") from None
    d = make_dataset(get_dataset_args())
    arrays = d["x"], d["y"], d["x_test"], d["y_test"]
    for a in arrays:
        a.setflags(write=False)  # shared by every later call
    return arrays


def _digits() -> tuple[np.ndarray, ...]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ValueError("data='digits' needs scikit-learn: pip install scikit-learn") from None
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(x))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def _npz(path: Path) -> tuple[np.ndarray, ...]:
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, EOFError, ValueError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    missing = [k for k in _NPZ_KEYS if k not in arrays]
    if missing:
        has = ", ".join(arrays) or "none"
        raise ValueError(f"{path}: missing arrays {', '.join(missing)} (has {has})")
    return tuple(arrays[k] for k in _NPZ_KEYS)


def _check(name: str, x, y, x_test, y_test) -> tuple[np.ndarray, ...]:
    for split, xs, ys in (("train", x, y), ("test", x_test, y_test)):
        if xs.ndim < 2 or len(xs) == 0:
            raise ValueError(
                f"{name}: {split} x must have shape [n, features...] with n >= 1, got {xs.shape}"
            )
        if ys.shape != (len(xs),):
            raise ValueError(f"{name}: {split} y must have shape ({len(xs)},), got {ys.shape}")
        if not np.issubdtype(xs.dtype, np.number):
            raise ValueError(f"{name}: {split} x must be numeric, got dtype {xs.dtype}")
        if not np.all(np.isfinite(xs)):
            raise ValueError(f"{name}: {split} x has NaN or infinite values")
        if not (np.issubdtype(ys.dtype, np.integer) or np.all(ys == np.round(ys))) or ys.min() < 0:
            raise ValueError(f"{name}: {split} y must hold class indices 0, 1, 2, ...")
    if x.shape[1:] != x_test.shape[1:]:
        raise ValueError(
            f"{name}: x examples have shape {x.shape[1:]} but x_test {x_test.shape[1:]}"
        )
    return (
        x.astype(np.float32),
        y.astype(np.int32),
        x_test.astype(np.float32),
        y_test.astype(np.int32),
    )
