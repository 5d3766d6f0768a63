"""``python -m benchmarks``: the quick synthetic suite; ``--full`` for the full sizes.

Run from the repository root. Nothing is downloaded. Other arguments (``--only``,
``--budget``, ``--output``, ``--no-cold-start``) go to every script of the suite.
"""

import sys

from benchmarks import bench_regressor

SUITE = [bench_regressor]


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--full" not in argv and "--quick" not in argv:
        argv.append("--quick")
    for script in SUITE:
        script.main(argv)


if __name__ == "__main__":
    main()
