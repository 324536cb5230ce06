"""Datasets for schedule sweeps: MNIST-1D, scikit-learn digits, a user's ``.npz`` or arrays.

Nothing is downloaded: MNIST-1D is generated offline with the ``mnist1d``
package (the published arrays: 4000 train / 1000 test, 40 features), digits
ships with scikit-learn. A validation split is carved from the training set
once, with a fixed seed, so every configuration and seed is selected on the
same validation examples and reported on the untouched test set.

The targets ``y`` say what the problem is: integers are class indices
(classification, ``n_classes`` outputs), floats are regression targets of any
trailing shape (as many outputs as one example's targets hold).
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import warnings
import zipfile
from pathlib import Path

import numpy as np

from jaxsched._check import outside_stacklevel

__all__ = ["BUILTIN", "Dataset", "load"]

BUILTIN = ("mnist1d", "digits")
_NPZ_KEYS = ("x", "y", "x_test", "y_test")
_SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train, validation and test arrays: ``x`` float32 ``[n, ...]``; ``y`` int32 ``[n]``
    (class indices, when ``n_classes`` is given) or float32 ``[n, ...]`` (regression
    targets, when ``n_classes`` is None).

    Built by `load`, or directly; either way the arrays are checked (shapes,
    finite inputs, labels in ``0 .. n_classes - 1``) and cast on construction.
    The validation split may be empty.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None

    def __post_init__(self):
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            x, y = _check_split(
                self.name, split, x, y, self.classification, may_be_empty=split == "val"
            )
            if x.shape[1:] != np.shape(self.x_train)[1:]:
                raise ValueError(
                    f"{self.name}: {split} examples have shape {x.shape[1:]}, "
                    f"train examples {np.shape(self.x_train)[1:]}"
                )
            if y.shape[1:] != np.shape(self.y_train)[1:]:
                raise ValueError(
                    f"{self.name}: {split} targets have shape {y.shape[1:]}, "
                    f"train targets {np.shape(self.y_train)[1:]}"
                )
            if self.classification and len(y) and y.max() >= self.n_classes:
                raise ValueError(
                    f"{self.name}: {split} y has label {y.max()}, but n_classes is {self.n_classes}"
                )
            object.__setattr__(self, f"x_{split}", x)
            object.__setattr__(self, f"y_{split}", y)

    def check_batch_size(self, who: str, batch_size: int) -> None:
        """Refuse batches larger than the training split (``who`` names the caller)."""
        if batch_size > len(self.x_train):
            raise ValueError(
                f"{who}: batch_size={batch_size} is larger than the training split "
                f"({len(self.x_train)} examples of {self.name})"
            )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example (``(40,)`` for MNIST-1D)."""
        return tuple(self.x_train.shape[1:])

    @property
    def classification(self) -> bool:
        """Whether ``y`` holds class indices (else regression targets)."""
        return self.n_classes is not None

    @property
    def n_outputs(self) -> int:
        """The outputs a model gives per example: the classes, or the values one
        example's targets hold (1 for scalar targets)."""
        if self.n_classes is not None:
            return self.n_classes
        return int(np.prod(self.y_train.shape[1:], dtype=np.int64))


def load(data: str | Path | tuple, val_fraction: float = 0.1) -> Dataset:
    """Load ``"mnist1d"``, ``"digits"``, an ``.npz`` file with ``x, y, x_test, y_test``, or
    those four arrays as a tuple.

    Integer ``y`` are class indices (classification); floating ``y`` are
    regression targets, ``[n]`` or ``[n, ...]``.

    Args:
      data: a built-in name, a path to an ``.npz`` file, or a tuple ``(x, y, x_test,
        y_test)`` of NumPy or JAX arrays.
      val_fraction: the part of the training set held out for validation, in [0, 1).

    Example:
      >>> from jaxsched.train.data import load
      >>> ds = load("digits")
      >>> ds.input_shape, ds.n_classes, len(ds.x_train) + len(ds.x_val), len(ds.x_test)
      ((64,), 10, 1438, 359)
      >>> x = np.linspace(-1, 1, 200)[:, None]
      >>> reg = load((x, np.sin(3 * x), x[::7], np.sin(3 * x[::7])), val_fraction=0.2)
      >>> reg.classification, reg.n_outputs, len(reg.x_train), len(reg.x_val)
      (False, 1, 160, 40)
    """
    if (
        isinstance(val_fraction, bool)
        or not isinstance(val_fraction, numbers.Real)
        or not 0.0 <= val_fraction < 1.0
    ):
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    if isinstance(data, tuple | list):
        name = "arrays"
        x, y, x_test, y_test = _arrays(data)
    elif isinstance(data, str) and data in BUILTIN:
        name = data
        x, y, x_test, y_test = _mnist1d() if data == "mnist1d" else _digits()
    elif isinstance(data, str | Path) and str(data).endswith(".npz"):
        name = Path(data).stem
        x, y, x_test, y_test = _npz(Path(data))
    elif isinstance(data, Path):
        raise ValueError(
            f"{str(data)!r} is not a path to an .npz file; the built-in data sets are named "
            f"by strings: {', '.join(repr(b) for b in BUILTIN)}"
        )
    else:
        raise ValueError(
            f"unknown data {str(data)!r}: use one of {', '.join(BUILTIN)}, a path to an .npz "
            f"file with arrays {', '.join(_NPZ_KEYS)}, or a tuple of those four arrays"
        )
    x, y, x_test, y_test, n_classes = _check(name, x, y, x_test, y_test)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(x))
    n_val = round(val_fraction * len(x))
    if n_val and len(x) - n_val < 1:
        raise ValueError(f"{name}: val_fraction={val_fraction} leaves no training examples")
    if val_fraction > 0 and not n_val:  # validation metrics would all be NaN
        raise ValueError(
            f"{name}: val_fraction={val_fraction} of {len(x)} training examples holds no "
            f"example; raise it, or train without validation with val_fraction=0"
        )
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
    if not zipfile.is_zipfile(path):  # np.load would read an .npy or a pickle instead
        raise ValueError(
            f"{path}: not an .npz archive; write one with np.savez(path, x=..., y=..., "
            "x_test=..., y_test=...)"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, EOFError, ValueError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    missing = [k for k in _NPZ_KEYS if k not in arrays]
    if missing:
        has = ", ".join(arrays) or "none"
        raise ValueError(f"{path}: missing arrays {', '.join(missing)} (has {has})")
    unused = [k for k in arrays if k not in _NPZ_KEYS]
    if unused:
        warnings.warn(
            f"{path}: the arrays {', '.join(unused)} are not used: only "
            f"{', '.join(_NPZ_KEYS)} are read, and the validation split is carved from x, y "
            "(val_fraction)",
            stacklevel=outside_stacklevel(),
        )
    return tuple(arrays[k] for k in _NPZ_KEYS)


def _arrays(data: tuple | list) -> tuple[np.ndarray, ...]:
    """A tuple ``(x, y, x_test, y_test)`` of arrays as NumPy arrays, checked for count and
    length."""
    if len(data) != 4:
        raise ValueError(
            f"data: a tuple of arrays must be (x, y, x_test, y_test), got {len(data)} items"
        )
    arrays = []
    for key, a in zip(_NPZ_KEYS, data, strict=True):
        if not hasattr(a, "shape") and not isinstance(a, list | tuple):
            raise ValueError(f"data: {key} must be an array, got {type(a).__name__}")
        arrays.append(np.asarray(a))
    x, y, x_test, y_test = arrays
    for (kx, ax), (ky, ay) in (
        ((_NPZ_KEYS[0], x), (_NPZ_KEYS[1], y)),
        ((_NPZ_KEYS[2], x_test), (_NPZ_KEYS[3], y_test)),
    ):
        if ax.ndim and ay.ndim and len(ax) != len(ay):
            raise ValueError(
                f"data: {kx} and {ky} must hold as many examples, got {len(ax)} and {len(ay)}"
            )
    return x, y, x_test, y_test


def _check(
    name: str, x, y, x_test, y_test
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int | None]:
    """The arrays checked and cast, and the number of classes the labels imply (None for
    regression targets)."""
    y, y_test = np.asarray(y), np.asarray(y_test)
    classification = _is_labels(name, "train", y)
    if _is_labels(name, "test", y_test) != classification:
        raise ValueError(
            f"{name}: y is {y.dtype} but y_test {y_test.dtype}; both must be class indices "
            "(integers) or both regression targets (floats)"
        )
    x, y = _check_split(name, "train", x, y, classification)
    x_test, y_test = _check_split(name, "test", x_test, y_test, classification)
    if x.shape[1:] != x_test.shape[1:]:
        raise ValueError(
            f"{name}: x examples have shape {x.shape[1:]} but x_test {x_test.shape[1:]}"
        )
    if not classification:
        if y.shape[1:] != y_test.shape[1:]:
            raise ValueError(
                f"{name}: y targets have shape {y.shape[1:]} but y_test {y_test.shape[1:]}"
            )
        if np.array_equal(y, np.round(y)) and np.array_equal(y_test, np.round(y_test)):
            warnings.warn(
                f"{name}: y holds floats, so it is read as regression targets (loss 'mse'), "
                "but every value is a whole number; for classification cast y and y_test to "
                "integers",
                stacklevel=outside_stacklevel(),
            )
        return x, y, x_test, y_test, None
    n_classes = int(max(y.max(), y_test.max())) + 1
    labels = np.concatenate([y, y_test])
    if n_classes < 2:
        raise ValueError(f"{name}: every label is 0; a classifier needs at least 2 classes")
    if n_classes > len(labels):
        raise ValueError(
            f"{name}: labels are class indices, so label {n_classes - 1} would give the model "
            f"{n_classes} outputs for {len(labels)} labelled examples; map the labels to "
            "0, 1, 2, ... first"
        )
    absent = np.setdiff1d(np.arange(n_classes), labels)
    if absent.size:
        warnings.warn(
            f"{name}: labels are class indices, so the model has {n_classes} outputs, but "
            f"{absent.size} of the classes 0 .. {n_classes - 1} never appear "
            f"({_first_few(absent)}); map the labels to 0, 1, 2, ... if that is not meant",
            stacklevel=outside_stacklevel(),
        )
    untrained = np.setdiff1d(y_test, y)
    if untrained.size:
        n = int(np.isin(y_test, untrained).sum())
        warnings.warn(
            f"{name}: the test labels {_first_few(untrained)} never appear in the training "
            f"labels, so the model cannot learn them: {n} of the {len(y_test)} test examples "
            "will be misclassified whatever the schedule",
            stacklevel=outside_stacklevel(),
        )
    return x, y, x_test, y_test, n_classes


def _is_labels(name: str, split: str, y: np.ndarray) -> bool:
    """Whether ``y`` holds class indices (integers or booleans) rather than regression
    targets (floats); anything else is refused."""
    if np.iscomplexobj(y) or not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise ValueError(
            f"{name}: {split} y must hold class indices 0, 1, 2, ... (integers) or regression "
            f"targets (floats), got dtype {y.dtype}; map the labels to integers first"
        )
    return not np.issubdtype(y.dtype, np.floating)


def _first_few(labels: np.ndarray) -> str:
    """``"1, 2, 3, 4, 5, ..."``: the first five labels of a sorted array."""
    return ", ".join(map(str, labels[:5])) + (", ..." if labels.size > 5 else "")


def _check_split(
    name: str, split: str, x, y, classification: bool, may_be_empty: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """One split's inputs as float32 ``[n, ...]`` and its targets as int32 ``[n]`` class
    indices or float32 ``[n, ...]`` regression targets, checked."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim < 2 or (len(x) == 0 and not may_be_empty):
        raise ValueError(
            f"{name}: {split} x must have shape [n, features...] with n >= 1, got {x.shape}"
        )
    if classification and y.shape != (len(x),):
        raise ValueError(f"{name}: {split} y must have shape ({len(x)},), got {y.shape}")
    if not classification and (y.ndim < 1 or len(y) != len(x)):
        raise ValueError(
            f"{name}: {split} y must have shape ({len(x)}, ...), one target per example, "
            f"got {y.shape}"
        )
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_) or np.iscomplexobj(x):
        raise ValueError(f"{name}: {split} x must be real numbers, got dtype {x.dtype}")
    if x.size == 0 and len(x):
        raise ValueError(f"{name}: {split} x examples have no features (shape {x.shape})")
    _is_labels(name, split, y)
    x32 = _float32(name, split, "x", x)
    if not classification:
        return x32, _float32(name, split, "y", y)
    if len(y) and (not np.all(y == np.round(y)) or y.min() < 0 or y.max() > 2**31 - 1):
        raise ValueError(f"{name}: {split} y must hold class indices 0, 1, 2, ...")
    return x32, y.astype(np.int32, copy=False)


def _float32(name: str, split: str, key: str, a: np.ndarray) -> np.ndarray:
    """``a`` as float32, refused where it is not finite (a `Dataset` built by `load` is
    already cast: no copy)."""
    with np.errstate(over="ignore"):
        a32 = a.astype(np.float32, copy=False)
    if not np.all(np.isfinite(a32)):
        beyond = np.all(np.isfinite(a))
        raise ValueError(
            f"{name}: {split} {key} has "
            + ("values beyond float32's range" if beyond else "NaN or infinite values")
        )
    return a32
