"""The ``jaxsched`` command line.

``jaxsched plot SPEC... [-o lr.png] [--steps N]`` draws schedules given as spec
strings: a preview in the terminal, and a PNG with ``-o`` (needs matplotlib).
Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import jaxsched
from jaxsched._preview import text_chart


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as e:
        print(f"jaxsched {args.command}: error: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxsched", description="Learning-rate schedules for JAX and Optax."
    )
    parser.add_argument("--version", action="version", version=f"jaxsched {jaxsched.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    plot = commands.add_parser(
        "plot",
        help="draw schedules given as spec strings",
        description='Draw schedules, e.g. jaxsched plot "cosine(init_value=0.1, decay_steps=900)"',
    )
    plot.add_argument("specs", nargs="+", metavar="SPEC", help="a schedule spec string")
    plot.add_argument("-o", "--output", type=Path, help="write a PNG here (needs matplotlib)")
    plot.add_argument("--steps", type=int, default=1000, help="steps to draw (default 1000)")
    plot.set_defaults(run=_plot)
    return parser


def _plot(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    schedules = [jaxsched.parse(spec) for spec in args.specs]
    steps = np.arange(args.steps)
    curves = [np.asarray(s(steps)) for s in schedules]
    for spec, curve in zip(args.specs, curves, strict=True):
        print(spec)
        print(text_chart(curve))
        print()
    if args.output is not None:
        _write_png(args.output, args.specs, steps, curves)
        print(f"wrote {args.output}")
    return 0


def _write_png(path: Path, labels: list[str], steps: np.ndarray, curves: list[np.ndarray]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("-o needs matplotlib: pip install 'jaxsched[experiments]'") from None
    if not path.parent.exists():
        raise ValueError(f"-o: the folder {path.parent} does not exist")
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for label, curve in zip(labels, curves, strict=True):
        ax.plot(steps, curve, label=label if len(label) <= 70 else label[:67] + "...")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
