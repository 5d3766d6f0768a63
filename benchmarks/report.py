"""Tidy rows to Markdown tables and plots. Nothing here measures: a report can be rendered
again from ``results/NAME.jsonl``."""

import contextlib
import datetime
import importlib
import importlib.util
import json
import os
import pathlib
import platform
import subprocess

import numba
import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info

import mtreg

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


# --- formats -------------------------------------------------------------------------------


def fmt_seconds(seconds):
    if seconds is None or not np.isfinite(seconds):
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_spread(times):
    """Median and min-max of repeated timings."""
    t = np.asarray(times)
    return f"{fmt_seconds(np.median(t))} ({fmt_seconds(t.min())}–{fmt_seconds(t.max())})"


def fmt_bytes(n):
    if n is None or not np.isfinite(n):
        return "n/a"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}" if unit == "GB" else f"{n / size:.0f} {unit}"
    return f"{n:.0f} B"


def met(value, goal, at_most=False):
    """The one verdict of every target: None (no target or no value), True or False."""
    if goal is None or value is None:
        return None
    return bool(value <= goal if at_most else value >= goal)


def verdict(met):
    """The verdict cell of every suite: "" (no target), "yes" or "**MISSED**"."""
    return "" if met is None else ("yes" if met else "**MISSED**")


def table(header, rows):
    """Markdown table; ``header`` a list of cells or one string of cells split by " | "."""
    header = header.split(" | ") if isinstance(header, str) else header
    line = lambda r: "| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)])


def of(rows, kind, **match):
    return [r for r in rows if r["kind"] == kind and all(r.get(k) == v for k, v in match.items())]


def cells(r):
    """The shared cells of a "compare" row (``run.compare``): mtreg's median and median
    (min–max), the contender's time (or the budget it spent), the ratio, target, verdict."""
    stopped, median = not r["times"], fmt_seconds(np.median(r["mtreg_times"]))
    mine = median if stopped or r.get("single") else fmt_spread(r["mtreg_times"])
    theirs = f"> {fmt_seconds(r['bound'])} ({r['stopped']})" if stopped else fmt_spread(r["times"])
    ratio = ("> " if stopped else "") + r["fmt"].format(r["ratio"])
    return dict(median=median, mine=mine, theirs=theirs, ratio=ratio, met=verdict(r["met"]))


COLUMNS = ("problem", "mine", "contender", "theirs", "ratio", "target", "met")


def compare_table(rows, header, columns=COLUMNS):
    """The one renderer of "compare" rows: per row, the cells of ``cells`` or else the row's
    own fields, in the order of ``columns``; a row given as a list is taken as it is."""
    body = [r if isinstance(r, list) else [(r | cells(r))[c] for c in columns] for r in rows]
    return table(header, body)


# --- machine ---------------------------------------------------------------------------------


def machine_info():
    """Cores, CPU, library versions and the BLAS in use, as (label, value) pairs."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        names = (line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
        cpu = next(names, cpu)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = "; ".join(f"{p['internal_api']} {p['version']} ({p.get('architecture', '?')}, "
                     f"{p['num_threads']} threads, {p['prefix']})"
                     for p in threadpool_info() if p["user_api"] == "blas")  # fmt: skip
    versions = f"mtreg {mtreg.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
    versions += f"scikit-learn {sklearn.__version__}, numba {numba.__version__}"
    return [
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("cpu", f"{cpu}; {os.cpu_count()} logical cores, {usable} usable"),
        ("os", platform.platform()),
        ("python", platform.python_version()),
        ("mtreg source", git_revision()),
        ("versions", versions),
        ("BLAS (threadpoolctl)", blas or "none found"),
        ("load average at start (1, 5, 15 min)", load_average()),
    ]


def git_revision():
    """Commit of the checkout, and whether mtreg/ had local changes."""
    kw = dict(cwd=ROOT, capture_output=True, text=True, check=True)
    asks = (["rev-parse", "--short", "HEAD"], ["status", "--porcelain", "mtreg"])
    try:
        head, dirty = (subprocess.run(["git", *a], **kw).stdout.strip() for a in asks)
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"git {head}" + (" with uncommitted changes to mtreg/" if dirty else "")


def load_average():
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


# --- shared sections ---------------------------------------------------------------------------


def cold_table(row, level="###", intro=""):
    compiled, cached = row["compiled"], row["cached"]
    import_row = ["import mtreg", *(fmt_seconds(r["import mtreg"]) for r in (compiled, cached))]
    out = [import_row + ["", ""]]
    for name, first in compiled.items():
        if name != "import mtreg":
            solver = "" if name.endswith(")") else f" ({first['solver']})"
            times = (first["first"], cached[name]["first"], first["warm"])
            compile_ = max(first["first"] - first["warm"], 0.0)
            out.append([f"first fit: {name}{solver}", *map(fmt_seconds, (*times, compile_))])
    header = (
        "fresh interpreter | empty numba cache | numba cache filled | warm fit (same process) | "
        "compile ≈ first - warm"
    )
    title = f"{level} Cold start (numba compilation), excluded from the timings above"
    return f"{title}\n\n{intro}" + table(header, out)


def checks(rows, suite):
    lines = [f"- {r['scenario']}: {r['text']}" for r in of(rows, "check", suite=suite)]
    return "### Correctness of what was timed\n\n" + "\n".join(lines) if lines else ""


# --- regressor, cv, speed ----------------------------------------------------------------------


def regressor_sections(rows, mode, folder):
    """(results, details) of the regressor report."""
    out, memory = of(rows, "compare", suite="regressor"), of(rows, "memory", suite="regressor")
    for m in (m for m in memory if m["scenario"] == "b"):
        text = f"peak memory: {fmt_bytes(m['traced'])} traced in the fit"
        if m["rss"]:
            text += f"; {fmt_bytes(m['rss']['peak'])} peak RSS of a process running only it"
        after_b = 1 + max(i for i, r in enumerate(out) if r["scenario"] == "b")
        out.insert(after_b, [m["problem"], text, "", "", "", m["target"], verdict(m["met"])])
    header = (
        "problem | mtreg fit: median (min–max) | compared with | its time | ratio (mtreg / other, "
        "median of pairs) | target | met"
    )
    parts = [checks(rows, "regressor")]
    if memory:
        body = [[m["scenario"], fmt_bytes(m["traced"]), fmt_bytes(m["data"])] for m in memory]
        parts.append(
            "### Peak memory\n\n"
            + table("scenario | tracemalloc peak of one fit | size of X", body)
        )
    parts += [
        f"Scenario b alone in a fresh process: RSS {fmt_bytes(r['rss_before'])} before the fit, "
        f"peak {fmt_bytes(r['peak'])} during it ({fmt_seconds(r['seconds'])}): at most "
        f"{fmt_bytes(r['peak'] - r['rss_before'])} beyond inputs and interpreter."
        for r in (m["rss"] for m in memory if m.get("rss"))
    ]
    for c in of(rows, "curve", suite="regressor"):
        pts = np.reshape(c["points"], (-1, 2))
        at = [(m, np.searchsorted(pts[:, 0], m)) for m in (0.01, 0.1, 1, 10, 30, 60, 300)]
        lines = [[fmt_seconds(m), f"{pts[k - 1, 1]:.2e}"] for m, k in at if k and pts[-1, 0] >= m]
        lines += [[f"{fmt_seconds(s)} (stop)", f"{g:.2e}"] for s, g in pts[-1:]]
        parts.append(
            "### L-BFGS-B on scenario a: suboptimality against time\n\n"
            + table(["time", "(J - J*) / J*"], lines)
            + f"\n\n{c['n_iter']} iterations; stop reason: {c['message']}."
        )
    if small := of(rows, "latency", suite="regressor"):
        body = [
            [r["problem"], fmt_spread(r["times"]), r["target"], verdict(r["met"])] for r in small
        ]
        parts.append(
            "### e. Small fits: time and where it goes\n\n"
            + table("problem | mtreg fit: median (min–max) | target | met", body)
        )
        for r in small:
            lines = [[n, fmt_seconds(own), fmt_seconds(cum), calls] for n, own, cum, calls in
                     r["profile"]["rows"]]  # fmt: skip
            parts.append(
                f"{r['problem']}, one fit under cProfile ({fmt_seconds(r['profile']['total'])}"
                " own time in all):\n\n" + table("function | own | cumulative | calls", lines)
            )
    return compare_table(out, header), parts + [cold_table(r) for r in of(rows, "cold")]


def cv_sections(rows, mode, folder):
    header = (
        "problem | mtreg: median (min–max) | compared with | its time | speed-up (median of "
        "pairs) | target | met"
    )
    return compare_table(of(rows, "compare", suite="cv"), header), [checks(rows, "cv")]


SCALING_ORDER = ["mtreg (auto)", "mtreg, solver='pcg'", "T sklearn Ridge", "L-BFGS-B", "cvxpy",
                 "KernelRidge (precomputed)"]  # fmt: skip


def scaling(rows):
    """{axis: (its "scaling" rows, the contenders timed on them in SCALING_ORDER)}."""
    points, out = of(rows, "scaling", suite="speed"), {}
    for axis in dict.fromkeys(p["axis"] for p in points):
        pts = [p for p in points if p["axis"] == axis]
        out[axis] = pts, [n for n in SCALING_ORDER if any(n in p["times"] for p in pts)]
    return out


def speed_sections(rows, mode, folder):
    """(results, details) of the speed report."""
    out = []
    for r in of(rows, "compare", suite="speed"):
        memory = fmt_bytes(r.get("memory")) if r["times"] or r.get("base") else "n/a"
        mine = [r["problem"], f"**{r['mtreg']}**", fmt_spread(r["mtreg_times"]), "", "", ""]
        out.append(
            mine + [memory, r["check"]] if r.get("base") else r | dict(problem="", memory=memory)
        )
    columns = ("problem", "contender", "theirs", "mtreg", "median", "ratio", "memory", "check")
    header = (
        "problem | contender | its fit: median (min–max) | paired with | mtreg in the same pairs | "
        "ratio contender / mtreg (median of pairs) | peak traced memory | agreement with mtreg"
    )
    notes = "".join(f"\n- {n['text']}" for n in of(rows, "note", suite="speed"))
    results = compare_table(out, header, columns) + ("\n" + notes if notes else "")
    parts = ["## Scaling curves"] if scaling(rows) else []
    for axis, (pts, names) in scaling(rows).items():
        header = ["n", "T", "d", "mtreg auto solver", *names, "(J - J*)/J*: cvxpy, L-BFGS"]
        body = [
            [f"{p['n']:,}", f"{p['T']:,}", p["d"], p["solver"]]
            + [fmt_seconds(p["times"][n]) if n in p["times"] else "–" for n in names]
            + [", ".join(f"{k} {v:.0e}" for k, v in p["gaps"].items())]
            for p in pts
        ]
        parts.append(f"**Scaling in {axis}**\n\n" + table(header, body))
    parts += [cold_table(r, "##") for r in of(rows, "cold", suite="speed")]
    if plots := speed_plots(rows, suffix(mode), folder):
        parts.append("## Plots\n\n" + "\n\n".join(f"![{p.stem}]({p.name})" for p in plots))
    return results, parts


def panels(n, width, height, **kw):
    """A figure of ``n`` panels side by side, each ``width`` x ``height`` inches: (fig, axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False, **kw)
    return fig, axes[0]


def save(fig, path):
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def speed_plots(rows, suffix, folder=RESULTS):
    """benchopt-style (J - J*)/J* against time, and the scaling curves; [paths] written."""
    if importlib.util.find_spec("matplotlib") is None:
        return []
    paths, curves, axes_ = [], of(rows, "curve", suite="speed"), scaling(rows)
    if curves:
        fig, axes = panels(len(curves), 5.5, 4.2)
        for ax, c in zip(axes, curves, strict=True):
            pts = np.array(c["points"])
            ax.plot(pts[:, 0], np.maximum(pts[:, 1], 1e-16), label="scipy L-BFGS-B on J")
            label = "mtreg, median fit: exact, drawn at 1e-16"
            ax.scatter(
                [c["mtreg_time"]], [1e-16], marker="*", s=150, color="k", zorder=3, label=label
            )
            ax.set(xscale="log", yscale="log", xlabel="time (s)", ylabel="(J - J*) / J*")
            ax.set_title(c["problem"], fontsize=9)
            ax.legend(fontsize=8)
        paths.append(save(fig, folder / f"speed_suboptimality{suffix}.png"))
    if axes_:
        fig, axes = panels(len(axes_), 5, 4.2)
        for ax, (axis, (pts, names)) in zip(axes, axes_.items(), strict=True):
            for name in names:
                ys = [p["times"].get(name, np.nan) for p in pts]
                ax.plot([p[axis] for p in pts], ys, marker="o", label=name)
            ax.set(xscale="log", yscale="log", xlabel=axis, ylabel="fit time (s), median")
        axes[0].legend(fontsize=8)
        paths.append(save(fig, folder / f"speed_scaling{suffix}.png"))
    return paths


# --- whole reports -------------------------------------------------------------------------------


def suffix(mode):
    return "" if mode == "full" else "-quick"


MODULES = ("classifier", "scale", "threads", "accuracy", "mixed", "peers")  # own sections()
TITLES = {
    "classifier": "MultiTaskGraphClassifier: time to 1e-6 suboptimality",
    "scale": "MultiTaskGraphRegressor beyond one machine's memory",
    "threads": "BLAS threads against problem size",
    "accuracy": "Accuracy on real multi-task data",
    "regressor": "MultiTaskGraphRegressor: speed and memory",
    "cv": "MultiTaskGraphRegressorCV: model selection speed",
    "speed": "Speed against the alternatives",
    "mixed": "BayesianMultiTaskGraphRegressor as a mixed model, against statsmodels and lme4",
    "peers": "MultiTaskGraphRegressor against MALSAR and RMTL, the reference implementations",
}
# The protocol every timed suite shares (``objective.race``); each suite adds its differences.
TIMING = """\
- Timing (`objective.race`): side by side, one untimed warm-up each, R interleaved repeats;
  medians (min–max), ratios the median of the R paired ratios; wall clock; JIT compilation
  excluded (cold start apart); BLAS: the libraries' threads unless `--blas-threads`.
"""
PROTOCOLS = {
    "regressor": """\
- `make_multitask_regression(..., random_state=0)`, alpha = l2 = 1, intercepts; b, c:
  symmetric 10-NN task graph (sparse). L-BFGS-B from zero on J (`mtreg.core`) to (J - J*)/J*
  <= 1e-8 or the budget (then a lower bound); b's `Ridge(alpha=l2)` loop includes its argsort.
- Memory: `tracemalloc` peak of one fit; b also the VmHWM of a fresh process running only
  the fit. Cold start: five fits per interpreter, "warm" the fastest after the first.
- d: `mtreg.core.task_stats` (the data pass of every exact fit, stream and fold) against
  NumPy's `X.T @ X` of the same rows, interleaved: ratio <= 2 is >= 50 % of the GEMM rate.
  Tasks of fewer rows than features have moments (T d^2 numbers) larger than X (T m d): the
  time to write T d^2 ones (`np.ones`) is given with each problem, and that time over the
  GEMM's is a floor of the ratio (the moments' writes alone, with no arithmetic).
- e: one fit, validation and graph parsing included: a. 5-NN graph given as CSR; school-sized.
""",
    "cv": """\
- School-sized data, complete graph, l2 = 1, alphas `logspace(-2, 4, 30)`. a: the same
  `TaskStratifiedKFold(5, shuffle=True, random_state=0)` folds for all; GridSearchCV (R^2,
  refit) routes task_ids as metadata or reads task codes in column 0 of X.
- b: GridSearchCV(`LeaveOneOut()`, negative MSE) on the first rows of the first tasks.
""",
    "speed": """\
- Squared loss, alpha = l2 = 1, intercepts; every answer judged by `mtreg.core.objective`,
  J* at mtreg's solution (its relative gradient listed); ratio > 1: mtreg faster.
- 5-NN graphs (a's kNN problem; b along n, T and d: per size the median of a few calls, slow
  contenders dropped past their limit). Memory: `tracemalloc` peak of one call. c: cold start.
""",
}
SECTIONS = dict(regressor=regressor_sections, cv=cv_sections, speed=speed_sections)


def render(suite, rows, mode, info, seconds, folder=RESULTS):
    """The Markdown report of one suite."""
    folder, source = pathlib.Path(folder), f"benchmarks/{suite}.py"
    if suite in MODULES:
        module = importlib.import_module(f"benchmarks.{suite}")
        protocol, results, details = module.sections(rows, mode, folder)
    else:
        protocol, source = PROTOCOLS[suite] + TIMING, "benchmarks/run.py"
        results, details = SECTIONS[suite](rows, mode, folder)
    command = "python -m benchmarks" + (" --full" if mode == "full" else "")
    parts = [
        f"# {TITLES[suite]} ({mode} mode)",
        f"Generated by `{command}` (`{source}`, suite {suite}) in "
        f"{seconds / 60:.1f} min; load average at the end: {load_average()}.",
        "## Machine",
        table(["", ""], info),
        "## Protocol",
        protocol,
        "## Results",
        results,
        *details,
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def write(suite, rows, mode, info, seconds, output=None):
    """Write results/NAME(-quick).jsonl (the tidy rows) and the Markdown report."""
    output = pathlib.Path(output) if output else RESULTS / f"{suite}{suffix(mode)}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output.with_suffix(".jsonl"), "w") as f:
        f.writelines(json.dumps(row, default=float) + "\n" for row in rows)
    text = render(suite, rows, mode, info, seconds, output.parent)
    output.write_text(text)
    return output, text
