"""Output paths checked before the work that fills them, not when its results are saved."""

from __future__ import annotations

import tempfile
from pathlib import Path


def writable_folder(folder: Path, what: str) -> None:
    """Make ``folder`` (and its parents) and write a file in it, or raise a `ValueError`
    naming ``what``. Permissions alone do not tell: root may write anywhere, and a
    read-only mount refuses even root.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     writable_folder(pathlib.Path(d, "runs", "a"), "the folder")
    ...     pathlib.Path(d, "runs", "a").is_dir()
    True
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"{what} {str(folder)!r} cannot be made ({e.strerror})") from None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".jaxsched-probe-"):
            pass
    except OSError as e:
        raise ValueError(f"{what} {str(folder)!r} is not writable ({e.strerror})") from None


def output_file(path: Path, flag: str, suffixes: tuple[str, ...] | None = None) -> None:
    """Refuse an output file that could not be written: a folder, one in a missing or
    unwritable folder, or (given ``suffixes``) one of another format."""
    if path.is_dir():
        raise ValueError(f"{flag} {str(path)!r} is a folder; name a file")
    if suffixes is not None and path.suffix.lower().lstrip(".") not in suffixes:
        named = [s for s in ("png", "pdf", "svg") if s in suffixes] or list(suffixes[:3])
        more = " or another it writes" if len(suffixes) > len(named) else ""
        raise ValueError(
            f"{flag} {str(path)!r}: name a file of a format it writes: "
            f"{', '.join('.' + s for s in named)}{more}"
        )
    if not path.parent.exists():
        raise ValueError(f"{flag}: the folder {path.parent} does not exist")
    writable_folder(path.parent, f"{flag}: the folder")


def image_formats() -> tuple[str, ...]:
    """The file suffixes matplotlib's ``savefig`` writes (``png``, ``pdf``, ``svg``, ...)."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise ValueError("plots need matplotlib: pip install 'jaxsched[experiments]'") from None
    return tuple(FigureCanvasBase.get_supported_filetypes())
