"""The Markdown report and the plots of bench_speed.py."""

import numpy as np

from benchmarks import _util as U
from benchmarks._regressor_report import cold_table

CONTENDER_ORDER = [
    "mtreg (auto)",
    "mtreg, solver='pcg'",
    "T sklearn Ridge",
    "L-BFGS-B",
    "cvxpy",
    "KernelRidge (precomputed)",
]


def side_by_side_table(a):
    header = [
        "problem",
        "contender",
        "its fit: median (min–max)",
        "paired with",
        "mtreg in the same pairs",
        "ratio contender / mtreg (median of pairs)",
        "peak traced memory",
        "agreement with mtreg",
    ]
    rows = []
    for p in a:
        rows.append(
            [
                f"{p['name']}: {p['label']}",
                f"**mtreg ({p['solver']})**",
                U.fmt_spread(p["times"]["mtreg"]),
                "",
                "",
                "",
                U.fmt_bytes(p["memory"]),
                f"‖∇J‖/‖∇J(0)‖ = {p['rel_grad']:.1e}",
            ]
        )
        mtreg_time = float(np.median(p["times"]["mtreg"]))
        for r in p["rows"]:
            if r["ratio"] is None:  # L-BFGS out of budget: one run, a lower bound
                spent = r["result"]["elapsed"]
                rows.append(
                    [
                        "",
                        r["contender"],
                        f"> {U.fmt_seconds(spent)} (budget spent)",
                        r["mtreg"],
                        U.fmt_seconds(mtreg_time),
                        f"> {spent / mtreg_time:.3g}",
                        "n/a",
                        r["check"],
                    ]
                )
                continue
            rows.append(
                [
                    "",
                    r["contender"],
                    U.fmt_spread(r["times"]["other"]),
                    r["mtreg"],
                    U.fmt_seconds(float(np.median(r["times"]["mtreg"]))),
                    f"{r['ratio']:.3g}",
                    U.fmt_bytes(r["memory"]),
                    r["check"],
                ]
            )
    return U.markdown_table(header, rows)


def scaling_tables(b):
    parts = []
    for axis, points in b.items():
        names = [n for n in CONTENDER_ORDER if any(n in p["times"] for p in points)]
        header = ["n", "T", "d", "mtreg auto solver"] + names + ["(J - J*)/J*: cvxpy, L-BFGS"]
        rows = []
        for p in points:
            gaps = ", ".join(f"{k} {v:.0e}" for k, v in p["gaps"].items())
            rows.append(
                [f"{p['n']:,}", f"{p['T']:,}", p["d"], p["solver"]]
                + [U.fmt_seconds(p["times"][n]) if n in p["times"] else "–" for n in names]
                + [gaps]
            )
        parts += [f"**Scaling in {axis}**", U.markdown_table(header, rows)]
    return "\n\n".join(parts)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scaling_plot(b, path):
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(b), figsize=(5 * len(b), 4.2))
    xlabels = {
        "n": "rows n (T = 50, d = 20)",
        "T": "tasks T (50 rows each, d = 20)",
        "d": "features d (T = 50, 100 rows each)",
    }
    for ax, (axis, points) in zip(np.atleast_1d(axes), b.items(), strict=True):
        x = np.array([p[axis] if axis != "n" else p["n"] for p in points])
        for name in CONTENDER_ORDER:
            ys = [p["times"].get(name, np.nan) for p in points]
            if not np.all(np.isnan(ys)):
                ax.plot(x, ys, marker="o", label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabels[axis])
        ax.grid(alpha=0.3, which="both")
    np.atleast_1d(axes)[0].set_ylabel("fit time (s), median")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.suptitle(
        "Same objective J (kNN task graph, alpha = l2 = 1); L-BFGS-B to (J - J*)/J* "
        "<= 1e-8; KernelRidge without intercepts; Ridge loop without coupling"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def suboptimality_plot(a, path):
    """benchopt-style: (J - J*) / J* against time, one panel per problem."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(a), figsize=(5.5 * len(a), 4.2))
    for ax, p in zip(np.atleast_1d(axes), a, strict=True):
        trace = np.array(p["lbfgs"]["trace"])
        if trace.size:
            ax.plot(trace[:, 0], np.maximum(trace[:, 1], 1e-16), label="scipy L-BFGS-B on J")
        mt = float(np.median(p["times"]["mtreg"]))
        ax.scatter(
            [mt],
            [1e-16],
            marker="*",
            s=150,
            color="k",
            zorder=3,
            label=f"mtreg ({p['solver']}), median fit: exact, drawn at 1e-16",
        )
        if p["cvxpy"] is not None:
            ax.scatter(
                [p["cvxpy"]["seconds"]],
                [max(p["cvxpy"]["gap"], 1e-16)],
                marker="s",
                s=60,
                zorder=3,
                label=f"cvxpy ({p['cvxpy']['solver']})",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("time (s)")
        ax.set_title(f"{p['name']}: {p['label']}", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="center right")
    np.atleast_1d(axes)[0].set_ylabel("(J - J*) / J*  (clipped at 1e-16)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def protocol(cfg, cvxpy_ok, rel_tol, krr_max_n):
    return "\n".join(
        [
            "- Objective: J of DESIGN.md section 1, squared loss, alpha = 1, l2 = 1, intercepts "
            "fitted, unit weights; every answer is evaluated by `mtreg._objective.objective`. "
            "J* = J at mtreg's solution (its relative gradient is listed).",
            "- Data: `mtreg.datasets.make_multitask_regression(random_state=0)`. a, school-sized: "
            'T = 139, 20..200 rows per task, d = 27, `feature_scale="mixed"` (0/1 and 0..100 '
            "columns, as in the school data), default complete graph (A = 1/T). a, kNN graph and "
            "b: standardised features, the symmetric 5-NN task graph (sparse).",
            "- a: each contender runs side by side with the mtreg fit that solves the same "
            "problem: one untimed warm-up call of each, then R interleaved repeats (mtreg, other, "
            f"mtreg, other, ...), R = {cfg['repeats']} (fast contenders) or "
            f"{cfg['slow_repeats']} (L-BFGS, cvxpy, KernelRidge). Times: median (min–max); "
            "ratio: median of the per-repeat ratios (above 1: mtreg is faster).",
            "- Contenders. T sklearn Ridge: `Ridge(alpha=l2)` on each task's rows (rows sorted "
            "by task first, timed): the independent models a user fits without mtreg (no "
            "coupling; checked equal to mtreg with graph='none', alpha=0). scipy: `minimize("
            f"method='L-BFGS-B', jac=True)` from zero on (W, b) until (J - J*)/J* <= {rel_tol:g} "
            f"(a: budget {cfg['budget']:.0f} s; b: {cfg['curve_budget']:.0f} s, dropped at larger "
            "sizes once over budget). cvxpy: J written with a sparse block design matrix and the "
            "weighted incidence matrix B of the graph (alpha ||(B kron I) vec W||^2), "
            "`Problem.solve()` with cvxpy's default solver; the time includes building the "
            "problem (what a user pays); "
            + ("installed." if cvxpy_ok else "**not installed: skipped**.")
            + " KernelRidge: `mtreg.multitask_kernel(kernel='linear')` then `KernelRidge(alpha=1, "
            "kernel='precomputed')` (Gram construction timed): J without intercepts, paired "
            f"with mtreg `fit_intercept=False`; only for n <= {krr_max_n:,} (two n x n float64 "
            "matrices).",
            f"- b: one warm-up fit of mtreg per size, then per contender the median of up to "
            f"{cfg['repeats']} calls, stopped once they took {cfg['slow_limit']:g} s in all (so "
            "slow contenders are timed once; L-BFGS and cvxpy always once); cvxpy and "
            f"KernelRidge are dropped at larger sizes once a call takes over "
            f"{cfg['cvxpy_limit']:g} s. mtreg's solver: 'auto' (its choice is "
            "listed) and 'pcg'.",
            "- Memory: `tracemalloc` peak of one call (NumPy/SciPy buffers; memory of numba's "
            "runtime, BLAS, and the compiled solvers cvxpy calls is not traced).",
            "- Cold start (c): fresh interpreters, numba cache empty then filled (the problems of "
            "`bench_regressor.py`); not in the timings of a and b.",
            "- BLAS threads: the libraries' defaults (machine table) unless `--blas-threads`. On "
            "a machine whose cores other processes use, single timings vary by several times: "
            "read the ratios and the min–max columns.",
        ]
    )


def report(mode, cfg, info, a, b, cold, plots, cvxpy_ok, rel_tol, krr_max_n, total):
    parts = [
        f"# Speed against the alternatives ({mode} mode)",
        "Generated by `python -m benchmarks"
        + (" --full" if mode == "full" else "")
        + f"` (`benchmarks/bench_speed.py`) in {total / 60:.1f} min; load average at the end: "
        f"{U.load_average()}.",
        "## Machine",
        U.markdown_table(["", ""], info),
        "## Protocol",
        protocol(cfg, cvxpy_ok, rel_tol, krr_max_n),
        "## Results",
    ]
    if a:
        parts.append(side_by_side_table(a))
        notes = [n for p in a for n in p["notes"]]
        if notes:
            parts.append("\n".join(f"- {n}" for n in notes))
    else:
        parts.append("Scenario a was not run.")
    if b:
        parts += ["## Scaling curves", scaling_tables(b)]
    if cold:
        parts += [
            "## Cold start (numba compilation), excluded from the timings above",
            cold_table(cold),
        ]
    if plots:
        parts += ["## Plots"] + [f"![{p.stem}]({p.name})" for p in plots]
    return "\n\n".join(parts) + "\n"
