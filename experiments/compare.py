"""The schedule comparison: ``python experiments/compare.py [options]`` is ``jaxsched compare``.

The study itself lives in the package (`jaxsched.experiments`); see
``jaxsched compare --help`` for the options and ``experiments/RESULTS.md`` for a
recorded run.
"""

import sys

from jaxsched.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["compare", *sys.argv[1:]]))
