"""The Markdown report of bench_scale.py: tables, protocol, correctness and memory."""

import numpy as np

from benchmarks import _util as U


def verdict(ok):
    return "yes" if ok else "**MISSED**"


def _rows_per_s(rows, seconds):
    return f"{rows / seconds / 1e6:.2f} M/s"


def _ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def _iterations(n_iter, what=""):
    """ ", k it." for an iterative solver (median over solves); "" for a direct one."""
    if any(k is None for k in n_iter):
        return ""
    return f", {int(np.median(n_iter))} it.{what}"


def _err(value, limit):
    return f"{value:.1e} ({verdict(value <= limit)})"


def _stream_totals(run):
    return float(np.sum(run["gen_times"])), float(np.sum(run["fit_times"]))


def streaming_table(cfg, targets, a):
    n, T, d = cfg["n_rows"], cfg["n_tasks"], cfg["n_features"]
    mem = a["memory"]
    full_bytes = mem["data_bytes"]
    rows = []
    for run in a["runs"]:
        gen, fit = _stream_totals(run)
        increment = max(run["hwm"].values()) - run["before"]
        peak = max(run["hwm_start"], *run["hwm"].values())
        rows.append(
            [
                f"partial_fit, {run['n_chunks']:,} chunks of {run['chunk']:,} rows "
                f"({run['solver']}{_iterations(run['n_iter'], ' per solve')})",
                U.fmt_seconds(gen + fit),
                f"{U.fmt_seconds(fit)}; {_rows_per_s(n, fit)}",
                U.fmt_bytes(peak),
                f"{U.fmt_bytes(increment)} ({increment / full_bytes:.1%} of the data)",
                _err(max(run["coef_err"], run["intercept_err"]), targets["exact"]),
            ]
        )
    rise = max(mem["hwm_data"], mem["hwm_fit"]) - mem["before_data"]
    fit_rise = max(mem["hwm_fit"] - mem["before"], 0)
    rows.append(
        [
            f"one fit, all rows in memory ({mem['solver']}{_iterations([mem['n_iter']])})",
            U.fmt_seconds(mem["gen_seconds"] + mem["seconds"]),
            f"{U.fmt_seconds(mem['seconds'])}; {_rows_per_s(n, mem['seconds'])}",
            U.fmt_bytes(max(mem["hwm_data"], mem["hwm_fit"])),
            f"{U.fmt_bytes(rise)} (of it the fit: {U.fmt_bytes(fit_rise)})",
            "(reference)",
        ]
    )
    header = [
        f"a. n={n:,} rows, T={T:,}, d={d}, 10-NN graph",
        "time with data generation",
        "fit time; rows/s",
        "peak RSS of the process",
        "peak RSS rise after warm-up",
        "max rel. diff of coef_, intercept_ to the in-memory fit (<= 1e-10)",
    ]
    caption = (
        f"**a. Streaming.** Full data n (d + 2) 8 bytes = {U.fmt_bytes(full_bytes)}; "
        f'8 T d^2 = {U.fmt_bytes(8 * T * d * d)}. "Peak RSS rise": the peak RSS of the '
        "run (data generation included) minus the RSS after imports and warm-up."
    )
    return caption + "\n\n" + U.markdown_table(header, rows)


def dask_table(cfg, targets, b):
    times = {k: np.array(v) for k, v in b["times"].items()}
    names = {
        "numpy": "NumPy arrays in memory (reference)",
        "threads": "dask arrays, threaded scheduler (2 threads)",
        "cluster": "dask arrays on a LocalCluster (2 workers x 1 thread, 127.0.0.1)",
    }
    rows = []
    for key, label in names.items():
        if key == "numpy":
            ratio, err = "1", "(reference)"
        else:
            ratio = f"{U.median_ratio(times[key], times['numpy']):.2f}"
            err = _err(max(b[f"{key}_coef_err"], b[f"{key}_intercept_err"]), targets["exact"])
        rows.append([label, U.fmt_spread(times[key]), ratio, err])
    header = [
        f"b. n={cfg['n_rows']:,}, T={cfg['n_tasks']:,}, d={cfg['n_features']}, "
        f"{b['n_chunks']} chunks ({b['solver']}{_iterations([b['n_iter']])})",
        "fit: median (min–max)",
        "ratio to NumPy (median of pairs)",
        "max rel. diff of coef_, intercept_ to NumPy (<= 1e-10)",
    ]
    caption = (
        f"**b. Dask.** Data {U.fmt_bytes(b['data_bytes'])}, already in memory (NumPy), "
        "persisted in the client process (threads) or in the workers (cluster)."
    )
    return caption + "\n\n" + U.markdown_table(header, rows)


def many_tasks_table(cfg, targets, c, mode):
    times = np.array(c["times"])
    increment = c["peak"] - c["before"]
    full = mode == "full"
    suffix = "" if full else " (full-size target; not judged here)"
    t_ok, m_ok = np.median(times) <= targets["c_time"], c["peak"] <= targets["c_memory"]
    rows = [
        [
            f"{cfg['n_tasks']:,}",
            f"{c['n_rows']:,}",
            cfg["n_features"],
            f"{c['nnz']:,}",
            f"{c['solver']}, {c['n_iter']} it.",
            U.fmt_spread(times),
            f"{U.fmt_bytes(c['peak'])} (fit: {U.fmt_bytes(increment)})",
            f"{c['rel_grad']:.1e}",
            f"<= 60 s: {verdict(t_ok) if full else '-'}; <= 4 GB: {verdict(m_ok) if full else '-'}"
            + suffix,
        ]
    ]
    header = [
        "c. T",
        "n",
        "d",
        "nnz(A)",
        "solver",
        "fit: median (min–max)",
        "peak RSS of the process (of it the fit)",
        "rel. gradient of J",
        "targets met",
    ]
    caption = (
        "**c. Many tasks**, symmetric 10-NN task graph, 20 rows per task, "
        '`solver="auto"` (asserted to pick pcg), fresh process.'
    )
    return caption + "\n\n" + U.markdown_table(header, rows)


def exactness_table(a):
    rows = [
        [
            f"{e['n_tasks']:,}",
            f"{e['n_rows']:,}",
            e["n_chunks"],
            e["first_chunk_tasks"],
            "yes" if e["weights"] else "no",
            e["solver"],
            f"{e['coef']:.1e}",
            f"{e['intercept']:.1e}",
            verdict(max(e["coef"], e["intercept"]) <= 1e-10),
        ]
        for e in a["exact"]
    ]
    header = [
        "T",
        "rows",
        "chunks",
        "tasks in chunk 1",
        "sample weights",
        "solver",
        "coef_ rel. diff",
        "intercept_ rel. diff",
        "<= 1e-10",
    ]
    return U.markdown_table(header, rows)


def stream_memory_table(a):
    rows = []
    for run in a["runs"]:
        marks = sorted((int(k), v) for k, v in run["hwm"].items())
        rows.append(
            [
                f"{run['chunk']:,}",
                U.fmt_bytes(run["chunk_bytes"]),
                U.fmt_bytes(run["hwm_start"]),
                U.fmt_bytes(run["before"]),
                "; ".join(f"{k * run['chunk']:,} rows: {U.fmt_bytes(v)}" for k, v in marks),
                U.fmt_bytes(run["end_rss"]),
                U.fmt_bytes(run["traced_call"]),
                U.fmt_seconds(float(np.median(run["fit_times"]))),
                U.fmt_seconds(run["solve_seconds"]),
                f"{run['n_chunks'] * run['solve_seconds'] / np.sum(run['fit_times']):.0%}",
            ]
        )
    header = [
        "chunk rows",
        "one chunk (X, y, t)",
        "peak RSS after imports + warm-up",
        "RSS before the stream",
        "peak RSS (VmHWM) after ... rows",
        "RSS at the end",
        "tracemalloc peak of one partial_fit",
        "partial_fit per chunk (median)",
        "one solve (median of 5)",
        "solves / partial_fit time",
    ]
    return U.markdown_table(header, rows)


def dask_lines(b):
    return "\n".join(
        [
            f"- LocalCluster start: {U.fmt_seconds(b['cluster_start'])}; generating and "
            f"persisting the {b['n_chunks']} chunks in the workers: "
            f"{U.fmt_seconds(b['persist_cluster'])}.",
            f"- First fit on the fresh cluster (the workers load the numba kernels): "
            f"{U.fmt_seconds(b['cluster_first'])}; not in the medians.",
            f"- One cluster fit ran {b['cluster_tasks']} tasks on {b['cluster_workers']} "
            "workers (`distributed.get_task_stream`): the chunk moments are computed where "
            "the chunks live and only the O(T d^2) moments travel.",
        ]
    )


def many_tasks_memory(cfg, c):
    T, d = cfg["n_tasks"], cfg["n_features"]
    unit_g, unit_a, unit_n = 8 * T * d * d, 8 * c["nnz"] * d, 8 * c["n_rows"]
    increment = c["peak"] - c["before"]
    lines = [
        f"Units: 8 T d^2 = {U.fmt_bytes(unit_g)} (one stack of per-task d x d blocks); "
        f"8 nnz(A) d = {U.fmt_bytes(unit_a)}; 8 n = {U.fmt_bytes(unit_n)} (one index per "
        f"row); the data X, y, t = {U.fmt_bytes(c['data_bytes'])}.",
        "",
        f"- Whole fit (peak RSS minus RSS before it): {U.fmt_bytes(increment)} = "
        f"{increment / (unit_g + unit_a):.1f} x 8 (T d^2 + nnz(A) d) = "
        f"{increment / unit_g:.1f} x 8 T d^2.",
    ]
    s = c.get("stages")
    if s:
        lines += [
            "- Stages apart, in another fresh process run with `MALLOC_MMAP_THRESHOLD_=65536` "
            "(freed large arrays leave the RSS, so a stage's rise is not hidden by heap "
            "memory an earlier stage freed):",
            f"  - Data pass alone (`mtreg.core.task_stats`): {U.fmt_bytes(s['moments'])} "
            f"(the moments themselves {U.fmt_bytes(s['stats_bytes'])} = "
            f"{s['stats_bytes'] / unit_g:.2f} x 8 T d^2; the rest is O(n): row order by "
            "task, weights).",
            '  - Solve alone (`mtreg.core.graph_ridge(..., solver="pcg")` from '
            f"the moments, {U.fmt_seconds(s['solve_seconds'])}): {U.fmt_bytes(s['solve'])} = "
            f"{s['solve'] / unit_g:.1f} x 8 T d^2.",
        ]
    lines += [
        "- No copy of X is made: the fit memory is O(T d^2 + nnz(A) d) plus O(n) index "
        "arrays, measured above; see the profile below for the time.",
    ]
    return "\n".join(lines)


def profile_table(c):
    rows = [
        [name, U.fmt_seconds(own), U.fmt_seconds(cum), calls]
        for name, own, cum, calls in c["profile"]
    ]
    return U.markdown_table(["function", "own time", "cumulative", "calls"], rows)


PROTOCOL = """\
- Model: alpha = 1, l2 = 1, intercepts fitted, `MultiTaskGraphRegressor(graph=A,
  tasks=range(T))` (streams need the task list: a chunk need not show every task).
- a, b: one planted model from `make_multitask_regression(T, 1, d, structure="knn",
  coef=True, random_state=0)` (its 10-NN graph A, w_t, b_t); rows are drawn in blocks,
  block k from `default_rng([0, k])`: x standard normal, task uniform, y = x . w_t + b_t +
  N(0, 1). The rows are the same however they are chunked, so every stream of a and the
  in-memory fit see the same n rows in the same order; the full data never exists in a
  streaming process (each chunk is generated, passed to `partial_fit`, and dropped).
- a: each stream, and the in-memory fit, runs in a fresh interpreter that first warms up
  the same code path on a tiny problem (JIT out of the way), records its peak RSS
  (`VmHWM`), resets the mark (`/proc/self/clear_refs`), then streams; `VmHWM` is read
  after chunk 1, after 10% and after 100% of the rows: flat marks mean memory does not grow
  with n. One run per chunk size (a full stream is minutes); per-chunk times are listed as
  medians. `partial_fit` solves after every chunk (the model is usable at any time): the
  solve time per chunk is given apart. tracemalloc peak: one more `partial_fit` on a chunk
  already in memory (NumPy buffers only; numba's allocations are not traced).
- a, exactness: small instances, `partial_fit` over the chunks against one `fit` on their
  concatenation; max |difference| / max |reference| of `coef_` and of `intercept_`
  (untimed, run with one BLAS thread).
- b: the dask arrays' chunks are built by the same generator inside dask
  (`dask.delayed` + `da.from_delayed`) and persisted before timing: in the client process
  for the threaded scheduler, in the workers for the LocalCluster (2 worker processes x 1
  thread, 127.0.0.1, in a fresh interpreter). The NumPy reference fits the same rows,
  computed once. The three fits run interleaved after one warm-up each; medians
  (min–max), ratios are medians of the per-repeat ratios.
- c: data by `make_multitask_regression(T, 20, d, structure="knn", random_state=0)`,
  saved to disk; a fresh interpreter loads it, warms up on a tiny kNN problem with
  "pcg", resets its peak-RSS mark and fits (time and peak of that first fit), then fits
  R - 1 more times for the time median, then once under cProfile (full mode). The
  optimality check is ||grad J|| / ||grad J(0)|| with J from `mtreg.core` (NumPy),
  in the parent process. The memory of the data pass and of the solve, apart, is measured
  in a second fresh interpreter.
- Wall clock (`time.perf_counter`); BLAS threads at the libraries' defaults unless
  `--blas-threads`. On a shared machine (load average above the core count) single
  timings vary by several times: read the min–max columns and the load averages.
"""


def report(mode, cfg, targets, info, a, b, c, total):
    parts = [
        f"# MultiTaskGraphRegressor beyond one machine's memory ({mode} mode)",
        "Generated by `python -m benchmarks"
        + (" --full" if mode == "full" else "")
        + f"` (`benchmarks/bench_scale.py`) in {total / 60:.1f} min; load average at the "
        f"end: {U.load_average()}.",
        "## Machine",
        U.markdown_table(["", ""], info),
        "## Protocol",
        PROTOCOL,
        "## Results",
    ]
    if a:
        parts.append(streaming_table(cfg["a"], targets, a))
    if b:
        parts.append(dask_table(cfg["b"], targets, b))
    if c:
        parts.append(many_tasks_table(cfg["c"], targets, c, mode))
    if a:
        parts += [
            "### a. Exactness of partial_fit on small instances",
            exactness_table(a),
            "### a. Memory of the streams: O(T d^2 + chunk), not O(n)",
            stream_memory_table(a),
        ]
    if b:
        parts += ["### b. Dask: cluster costs and where the work ran", dask_lines(b)]
    if c:
        parts += ["### c. Memory of the many-task fit", many_tasks_memory(cfg["c"], c)]
        if c.get("profile"):
            parts += [
                "### c. Where the time of one fit goes (cProfile, own time)",
                profile_table(c),
            ]
    return "\n\n".join(parts) + "\n"
