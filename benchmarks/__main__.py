"""``python -m benchmarks``: the whole suite in one command; ``--full`` for the full sizes.

Run from the repository root. Nothing is downloaded. By default every script runs in its
quick mode: the synthetic benchmarks (data made by ``mtreg.datasets``, about 3 minutes
on 2 cores), then the real-data accuracy suite (``bench_accuracy --quick``, about 2
minutes) when the data folder is present: the folder named by MTREG_DATA, else
``../shared/data`` beside the checkout. Whether it was found, and where, or why it is
skipped, is printed on stderr; without it the synthetic suite still runs.
``--no-real-data`` leaves the real-data suite out; ``--real-data`` is accepted and does
nothing (it used to switch the real-data suite on, now on by default).

Other arguments (``--only``, ``--budget``, ``--blas-threads``, ``--output``,
``--no-cold-start``) go to every script of the suite. Quick reports are written as
``results/*-quick.md`` (git-ignored); a full run writes ``results/NAME.md`` and copies
the "Results" section of each report into the README, between the markers
``<!-- results: NAME -->`` and ``<!-- /results -->``: the README's numbers are never
typed by hand.
"""

import os
import pathlib
import re
import sys

from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks import _util as U
from benchmarks import (
    bench_accuracy,
    bench_classifier,
    bench_cv,
    bench_regressor,
    bench_scale,
    bench_speed,
)

SYNTHETIC = [bench_regressor, bench_classifier, bench_scale, bench_cv, bench_speed]
ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_script(script, argv):
    """script.main(argv), then undo the BLAS thread limits and thread variables it set
    (``--blas-threads``, or a script's own default): each script starts from the same
    state as when it runs on its own."""
    blas = threadpool_info()
    variables = {name: os.environ.get(name) for name in U.THREAD_VARIABLES}
    try:
        return script.main(argv)
    finally:
        threadpool_limits(blas)
        for name, value in variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def update_readme(name, readme=ROOT / "README.md"):
    """Put the table of the "## Results" section of results/NAME.md into the README."""
    report = (ROOT / "benchmarks" / "results" / f"{name}.md").read_text()
    section = re.search(r"^## Results\n(.*?)(?=^##|\Z)", report, flags=re.S | re.M).group(1)
    start, end = f"<!-- results: {name} -->", "<!-- /results -->"
    text = readme.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), flags=re.S)
    if not pattern.search(text):
        raise RuntimeError(f"README.md has no {start} ... {end} block to fill.")
    source = (
        f"From [`benchmarks/results/{name}.md`](benchmarks/results/{name}.md) (protocol, "
        "memory, correctness checks, cold start), written by `python -m benchmarks --full`."
    )
    block = f"{start}\n{source}\n\n{section.strip()}\n{end}"
    readme.write_text(pattern.sub(lambda _: block, text))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--full" not in argv and "--quick" not in argv:
        argv.append("--quick")
    real_data = "--no-real-data" not in argv
    argv = [a for a in argv if a not in ("--real-data", "--no-real-data")]
    for script in SYNTHETIC:
        run_script(script, argv)
    if real_data:  # prints on stderr whether it found the data folder, and where
        ran_real_data = run_script(bench_accuracy, argv) is not None
    else:
        ran_real_data = False
        print(
            "benchmarks: real-data suite (bench_accuracy) left out: --no-real-data", file=sys.stderr
        )
    if "--full" in argv and "--output" not in argv and "--only" not in argv:
        update_readme("regressor")
        update_readme("classifier")
        update_readme("cv")
        update_readme("scale")
        update_readme("speed")
        if ran_real_data:
            update_readme("accuracy")


if __name__ == "__main__":
    main()
