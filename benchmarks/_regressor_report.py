"""The Markdown report of bench_regressor.py: tables, protocol, correctness checks."""

import numpy as np

from benchmarks import _util as U


def verdict(ok):
    return "yes" if ok else "**MISSED**"


def results_table(cfg, targets, a, b, c):
    rows = []
    if a:
        n, d = a["X"].shape
        problem = f"a. T={cfg['a']['n_tasks']}, n={n:,}, d={d}, complete graph ({a['solver']})"
        ratio = U.median_ratio(a["times"]["mtreg"], a["times"]["grams"])
        rows.append(
            [
                problem,
                U.fmt_spread(a["times"]["mtreg"]),
                "NumPy per-task Grams (argsort + X_t^T X_t)",
                U.fmt_spread(a["times"]["grams"]),
                f"{ratio:.2f}",
                "<= 3",
                verdict(ratio <= targets["a_gram"]),
            ]
        )
        lb = a["lbfgs"]
        mt = float(np.median(a["times"]["mtreg"]))
        if lb["time"] is not None:
            their, speedup = U.fmt_seconds(lb["time"]), f"{lb['time'] / mt:.0f}x"
            ok = lb["time"] / mt >= targets["a_lbfgs"]
        else:
            their = f"> {U.fmt_seconds(lb['elapsed'])} (gap {lb['gap']:.1e} reached)"
            speedup, ok = f"> {lb['elapsed'] / mt:.0f}x", lb["elapsed"] / mt >= targets["a_lbfgs"]
        rows.append(
            [
                problem,
                U.fmt_seconds(mt),
                "scipy L-BFGS-B on J to 1e-8 relative",
                their,
                speedup,
                ">= 100x faster",
                verdict(ok),
            ]
        )
    if b:
        n, d = b["X"].shape
        problem = (
            f"b. T={cfg['b']['n_tasks']:,}, n={n:,}, d={d}, "
            f"10-NN graph ({b['solver']}, {b['n_iter']} it.)"
        )
        ratio = U.median_ratio(b["times"]["mtreg"], b["times"]["ridge"])
        rows.append(
            [
                problem,
                U.fmt_spread(b["times"]["mtreg"]),
                "loop of sklearn Ridge per task",
                U.fmt_spread(b["times"]["ridge"]),
                f"{ratio:.3f}",
                "<= 0.5",
                verdict(ratio <= targets["b"]),
            ]
        )
        peak = max(b["memory"], b["rss"]["peak"])
        rows.append(
            [
                problem,
                f"peak memory: {U.fmt_bytes(b['memory'])} traced in the fit; "
                f"{U.fmt_bytes(b['rss']['peak'])} peak RSS of a process running only it",
                "",
                "",
                "",
                "<= 2 GB",
                verdict(peak <= targets["b_memory"]),
            ]
        )
    if c:
        (n, d), T = c["X"].shape, c["Y"].shape[1]
        problem = f"c. multi-output n={n:,}, d={d}, T={T}, 10-NN graph ({c['solver']})"
        ratio = U.median_ratio(c["times"]["mtreg"], c["times"]["ridge"])
        rows.append(
            [
                problem,
                U.fmt_spread(c["times"]["mtreg"]),
                "sklearn Ridge(alpha=l2).fit(X, Y)",
                U.fmt_spread(c["times"]["ridge"]),
                f"{ratio:.2f}",
                "<= 2",
                verdict(ratio <= targets["c"]),
            ]
        )
    header = [
        "problem",
        "mtreg fit: median (min–max)",
        "compared with",
        "its time",
        "ratio (mtreg / other, median of pairs)",
        "target",
        "met",
    ]
    return U.markdown_table(header, rows)


def memory_table(a, b, c):
    rows = []
    for name, res in (("a", a), ("b", b), ("c", c)):
        if res:
            rows.append([name, U.fmt_bytes(res["memory"]), U.fmt_bytes(res["X"].nbytes)])
    text = U.markdown_table(["scenario", "tracemalloc peak of one fit", "size of X"], rows)
    if b:
        r = b["rss"]
        text += (
            f"\n\nScenario b in a fresh process that loads the data and runs only the fit "
            f"(after a tiny warm-up fit of the same code path; numba signatures compiled "
            f"during the measured fit: {r['compiled_in_fit']}): RSS before the fit "
            f"{U.fmt_bytes(r['rss_before'])}; peak RSS of the process "
            + ("during the fit (VmHWM, reset just before it) " if r["reset"] else "")
            + f"{U.fmt_bytes(r['peak'])}; so the fit ({U.fmt_seconds(r['seconds'])}) used "
            f"at most {U.fmt_bytes(r['peak'] - r['rss_before'])} beyond its inputs and the "
            "interpreter."
        )
    return text


def correctness_lines(a, b, c):
    lines = []
    if a:
        lines.append(
            f"- a: max |W - W_dense| / max |W_dense| = {a['dense_err']:.1e} against one "
            f"dense solve of the centred normal equations (assert < 1e-6); "
            f"||grad J|| / ||grad J(0)|| = {a['rel_grad']:.1e} (assert < 1e-8)."
        )
    if b:
        lines.append(
            f"- b: ||grad J|| / ||grad J(0)|| = {b['rel_grad']:.1e} (assert < 1e-8); "
            f"with graph='none', alpha=0 mtreg solves the Ridge loop's problem: max "
            f"|coef difference| = {b['ridge_err']:.1e} (assert < 1e-8); that fit took "
            f"{U.fmt_seconds(b['t_alone'])} (one run)."
        )
    if c:
        lines.append(
            f"- c: ||W G + alpha L W + l2 W - R|| / ||R|| = {c['sylvester']:.1e} at full "
            f"size (G, R from centred X, Y by NumPy; assert < 1e-10); on 2,000 rows x 30 "
            f"features x 60 tasks, max relative difference to one dense (T d) x (T d) "
            f"solve = {c['subset_err']:.1e} (assert < 1e-8)."
        )
    return "\n".join(lines)


def lbfgs_table(lbfgs, mtreg_time):
    checkpoints = [0.01, 0.1, 1.0, 10.0, 30.0, 60.0, 120.0]
    rows = []
    for cp in checkpoints:
        if cp > lbfgs["elapsed"] * 1.001:
            break
        gaps = [gap for t, gap in lbfgs["trace"] if t <= cp]
        rows.append([U.fmt_seconds(cp), f"{gaps[-1]:.2e}" if gaps else "(no iteration yet)"])
    rows.append([f"{U.fmt_seconds(lbfgs['elapsed'])} (stop)", f"{lbfgs['gap']:.2e}"])
    text = U.markdown_table(["time", "(J - J*) / J*"], rows)
    return text + (
        f"\n\n{lbfgs['n_iter']} iterations; stop reason: {lbfgs['message']}. "
        f"mtreg reaches J* (exact solve) in {U.fmt_seconds(mtreg_time)}."
    )


def cold_table(cold):
    return U.cold_start_table(*cold)


PROTOCOL = """\
- Data: `mtreg.datasets.make_multitask_regression(..., random_state=0)`; alpha = 1, l2 = 1,
  intercepts fitted. a: `structure="complete"`, `feature_scale="mixed"` (every fifth column
  integers 0..100, the others 0/1), rows per task drawn from 20..200; b and c:
  `structure="knn"`, the symmetric 10-NN graph of the tasks' latent positions (sparse CSR).
- Each comparison runs side by side in one process: one untimed warm-up call of each
  contender (JIT compilation and caches out of the way), then R interleaved repeats
  (mtreg, other, mtreg, other, ...). Times are medians (min–max) over the repeats; the ratio
  is the median of the R per-repeat ratios. `time.perf_counter`, wall clock.
- a, NumPy baseline: `argsort(task_ids)`, `X[order]`, then `X_t.T @ X_t` per task slice.
- a, L-BFGS-B: `scipy.optimize.minimize(method="L-BFGS-B", jac=True)` from zero over
  (W, b), objective and gradient from `mtreg._objective` (NumPy), `ftol=gtol=0`, stopped
  by a callback when (J - J*) / J* <= 1e-8 (J* = the smaller of J at the mtreg solution and
  at a dense reference solve) or when the time budget is spent; one run. If the budget is
  spent first, the budget is a lower bound of its time.
- b, Ridge loop: `argsort(task_ids)`, then `Ridge(alpha=l2).fit(X_t, y_t)` per task (the
  sort is timed too).
- c: `MultiTaskGraphRegressor(graph=A).fit(X, Y)` against `Ridge(alpha=l2).fit(X, Y)`.
- BLAS threads: the libraries' defaults (see the machine table) unless `--blas-threads`
  was given. On a machine whose cores other processes use (load average above the core
  count), multi-threaded OpenBLAS calls on small matrices can be slowed many times over
  while a worker thread waits for a core: read the min–max columns.
- Memory: `tracemalloc` peak during one fit (NumPy/SciPy buffers; numba runtime and BLAS
  scratch memory are not traced), and for b the peak RSS of a fresh process that loads
  the data, warms up on a tiny problem, resets its peak-RSS mark (`/proc/self/clear_refs`)
  and runs only the fit (`VmHWM` of `/proc/self/status`; `ru_maxrss` is not used: in a
  child process on Linux it can start at the parent's RSS).
- Cold start: a fresh interpreter with `NUMBA_CACHE_DIR` set to an empty temporary folder
  (numba compiles), then a second fresh interpreter with the same, now filled, cache;
  five fits each, the first reported separately, "warm" the fastest of the other four.
  Cold starts are not in the medians.
"""


def report(mode, cfg, targets, info, a, b, c, cold, total):
    parts = [
        f"# MultiTaskGraphRegressor: speed and memory ({mode} mode)",
        "Generated by `python -m benchmarks"
        + (" --full" if mode == "full" else "")
        + f"` (`benchmarks/bench_regressor.py`) in {total / 60:.1f} min; load average at "
        f"the end: {U.load_average()}.",
        "## Machine",
        U.markdown_table(["", ""], info),
        "## Protocol",
        PROTOCOL,
        "## Results",
        results_table(cfg, targets, a, b, c),
        "### Correctness of what was timed",
        correctness_lines(a, b, c),
        "### Peak memory",
        memory_table(a, b, c),
    ]
    if a:
        parts += [
            "### L-BFGS-B on scenario a: suboptimality against time",
            lbfgs_table(a["lbfgs"], float(np.median(a["times"]["mtreg"]))),
        ]
    if cold:
        parts += [
            "### Cold start (numba compilation), excluded from the timings above",
            cold_table(cold),
        ]
    return "\n\n".join(parts) + "\n"
