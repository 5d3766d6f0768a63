"""``python -m benchmarks``: the quick synthetic suite; ``--full`` for the full sizes.

Run from the repository root. Nothing is downloaded. The real-data accuracy suite
(``bench_accuracy``) runs with ``--full`` or ``--real-data`` when the data folder is present
(MTREG_DATA, else ``../shared/data``; it says on stderr whether it found it): even its quick
mode takes several minutes, so the default run leaves it out. Other arguments (``--only``,
``--budget``, ``--output``, ``--no-cold-start``) go to every script of the suite. A full
run also copies the "Results" section of each report into the README, between the
markers ``<!-- results: NAME -->`` and ``<!-- /results -->``: the README's numbers are
never typed by hand.
"""

import pathlib
import re
import sys

from benchmarks import (
    bench_accuracy,
    bench_classifier,
    bench_cv,
    bench_regressor,
    bench_scale,
    bench_speed,
)

SUITE = [bench_regressor, bench_classifier, bench_scale, bench_cv, bench_speed, bench_accuracy]
ROOT = pathlib.Path(__file__).resolve().parents[1]


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
    real_data = "--real-data" in argv or "--full" in argv
    argv = [a for a in argv if a != "--real-data"]
    for script in SUITE:
        if script is bench_accuracy and not real_data:
            print("bench_accuracy (real data) skipped: pass --real-data or --full",
                  file=sys.stderr)
            continue
        script.main(argv)
    if "--full" in argv and "--output" not in argv and "--only" not in argv:
        update_readme("regressor")
        update_readme("classifier")
        update_readme("scale")
        update_readme("speed")
        if (ROOT / "benchmarks" / "results" / "accuracy.md").exists():
            update_readme("accuracy")


if __name__ == "__main__":
    main()
