"""The scale suite (issue 7): a. ``partial_fit`` over a stream of rows of one planted model;
b. dask arrays, threaded and on a ``distributed.LocalCluster``; c. many tasks (pcg). Heavy runs
happen in fresh interpreters (``objective.child``) that run the ``*_run`` functions."""

import copy
import pathlib
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

from mtreg import MultiTaskGraphRegressor, core
from mtreg.datasets import make_multitask_regression

from . import objective as O
from . import report as R
from .datasets import Planted
from .objective import ALPHA, L2, child, race, reset_peak_rss, rss, timed

_A = dict(n_tasks=1000, n_features=20, n_neighbors=10)
_C = dict(rows_per_task=20, n_features=10, n_neighbors=10, repeats=3)
MODES = {
    "full": dict(
        a=dict(_A, n_rows=10**7, block=10**5, chunks=[10**5, 10**6], exact_rows=100_000,
               exact_chunk=10_000),
        b=dict(_A, n_rows=2 * 10**6, chunk=2 * 10**5, repeats=5),
        c=dict(_C, n_tasks=100_000, profile=True),
    ),
    "quick": dict(
        a=dict(_A, n_rows=10**6, block=10**4, chunks=[10**5, 5 * 10**5], exact_rows=25_000,
               exact_chunk=5_000),
        b=dict(_A, n_rows=2 * 10**5, chunk=2 * 10**4, repeats=3),
        c=dict(_C, n_tasks=10_000, profile=False),
    ),
}  # fmt: skip
TARGETS = {"exact": 1e-10, "c_time": 60.0, "c_memory": 4 * 1024**3}
COEFS = ("coef_", "intercept_")


def rel_diff(a, b):
    """max |a - b| / max |b|."""
    return float(np.abs(np.asarray(a) - b).max() / np.abs(b).max())


def fit_err(a, b):
    """The larger ``rel_diff`` of coef_ and intercept_ of two mappings (.npz, estimator vars)."""
    return max(rel_diff(a[k], b[k]) for k in COEFS)


def keep(est, out):
    """Save the coef_ and intercept_ of ``est`` to ``out`` (.npz), for the parent to compare."""
    np.savez(out, **{k: getattr(est, k) for k in COEFS})


def nbytes(*arrays):
    return sum(a.nbytes for a in arrays)


def model_of(cfg, stream=None):
    """The planted model of ``cfg``; with ``stream`` True or False, after a warm-up of the same
    code path (partial_fit or fit) on a tiny problem, so that no JIT work is measured."""
    model = Planted(cfg["n_tasks"], cfg["n_features"], cfg["n_neighbors"])
    (X, y, t), est = model.rows(10**9, 2, 1000), model.estimator()
    if stream:
        for part in (slice(0, 1000), slice(1000, None)):
            est.partial_fit(X[part], y[part], task_ids=t[part])
    elif stream is not None:
        est.fit(X, y, task_ids=t)
    return model


# --- a. streaming ------------------------------------------------------------------------------


def stream_run(cfg):
    """Fresh process: partial_fit over cfg["n_rows"] rows in chunks of cfg["chunk"] rows."""
    model = model_of(cfg, stream=True)
    out = dict(chunk=cfg["chunk"], hwm_start=rss("VmHWM"), before=reset_peak_rss(), hwm={})
    per_chunk, n_chunks = cfg["chunk"] // cfg["block"], cfg["n_rows"] // cfg["chunk"]
    est, gen_times, fit_times = model.estimator(), [], []
    for k in range(n_chunks):
        seconds, (X, y, t) = timed(lambda k=k: model.rows(k * per_chunk, per_chunk, cfg["block"]))
        gen_times.append(seconds)
        fit_times.append(timed(lambda X=X, y=y, t=t: est.partial_fit(X, y, task_ids=t))[0])
        del X, y, t  # the next chunk must not meet this one in memory
        if k + 1 in {1, max(n_chunks // 10, 1), n_chunks}:
            out["hwm"][str(k + 1)] = rss("VmHWM")
    # partial_fit adds the chunk's moments; the solve waits for the first read of the model
    out["solve_seconds"], _ = timed(lambda: est.coef_)
    out |= dict(end_rss=rss(), n_chunks=n_chunks, gen_times=gen_times, fit_times=fit_times)
    keep(est, cfg["out"])
    X, y, t = model.rows(0, per_chunk, cfg["block"])
    spare = copy.deepcopy(est)  # one more chunk, on a copy: the saved result stays as is
    traced, _ = O.traced_peak(lambda: spare.partial_fit(X, y, task_ids=t))
    chunk = dict(traced_call=traced, chunk_bytes=nbytes(X, y, t))
    return out | chunk | dict(n_iter=[est.n_iter_], solver=est.solver_)


def in_memory_run(cfg):
    """Fresh process: all rows in memory (the same rows as the streams), one fit."""
    model, before_data = model_of(cfg, stream=False), rss()
    gen, (X, y, t) = timed(lambda: model.rows(0, cfg["n_rows"] // cfg["block"], cfg["block"]))
    out = dict(gen_seconds=gen, before_data=before_data, hwm_data=rss("VmHWM"))
    est, out["before"] = model.estimator(), reset_peak_rss()
    out["seconds"], _ = timed(lambda: est.fit(X, y, task_ids=t))
    keep(est, cfg["out"])
    out |= dict(hwm_fit=rss("VmHWM"), data_bytes=nbytes(X, y, t), solver=est.solver_)
    return out | dict(n_iter=est.n_iter_)


def exactness(n_tasks, cfg, weights=False):
    """partial_fit over chunks against one fit on their concatenation (small instance);
    untimed, on one BLAS thread (a threaded dense Cholesky is slow on shared cores)."""
    from threadpoolctl import threadpool_limits

    model, block = Planted(n_tasks, cfg["n_features"], cfg["n_neighbors"]), cfg["exact_chunk"]
    chunks = [model.rows(k, 1, block, weights) for k in range(cfg["exact_rows"] // block)]
    with threadpool_limits(1):
        streamed = model.estimator()
        for chunk in chunks:
            streamed.partial_fit(*chunk[:3], sample_weight=chunk[3] if weights else None)
        X, y, t, *s = (np.concatenate(parts) for parts in zip(*chunks, strict=True))
        whole = model.estimator().fit(X, y, task_ids=t, sample_weight=s[0] if weights else None)
    out = dict(n_tasks=n_tasks, n_rows=len(X), n_chunks=len(chunks), weights=weights)
    out |= dict(solver=whole.solver_, first_chunk_tasks=len(np.unique(chunks[0][2])))
    coef, intercept = (rel_diff(getattr(streamed, k), getattr(whole, k)) for k in COEFS)
    return out | dict(coef=coef, intercept=intercept)


def scenario_a(cfg, folder):
    runs, out = [], str(pathlib.Path(folder) / "memory.npz")
    for chunk in cfg["chunks"]:
        print(f"a: streaming {cfg['n_rows']:,} rows in chunks of {chunk:,} ...", file=sys.stderr)
        runs.append(child(stream_run, dict(cfg, chunk=chunk, out=f"{out}.{chunk}.npz")))
    memory = child(in_memory_run, dict(cfg, out=out))
    for r in runs:
        r["err"] = fit_err(np.load(f"{out}.{r['chunk']}.npz"), np.load(out))
    exact = [exactness(139, cfg), exactness(139, cfg, weights=True), exactness(cfg["n_tasks"], cfg)]
    return dict(runs=runs, memory=memory, exact=exact)


# --- b. Dask -------------------------------------------------------------------------------------


def dask_run(cfg):
    """Fresh process: NumPy fit vs dask on threads vs dask on a 2-worker LocalCluster."""
    import dask
    import distributed

    model = model_of(cfg)
    lazy = model.dask_arrays(cfg["n_rows"], cfg["chunk"])
    X, y, t = dask.compute(*lazy, scheduler="threads")
    local = dask.persist(*lazy, scheduler="threads")
    out = dict(data_bytes=nbytes(X, y, t), n_chunks=len(lazy[0].chunks[0]))
    start = time.perf_counter()
    cluster = dict(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
    with distributed.LocalCluster(**cluster) as c, distributed.Client(c) as client:
        out["cluster_start"] = time.perf_counter() - start
        on_cluster = client.persist(lazy)
        out["persist_cluster"] = timed(lambda: distributed.wait(on_cluster))[0]
        ests = {k: model.estimator() for k in ("numpy", "threads", "cluster")}

        def on_threads():
            with dask.config.set(scheduler="threads"):
                return ests["threads"].fit(*local[:2], task_ids=local[2])

        contenders = {
            "numpy": lambda: ests["numpy"].fit(X, y, task_ids=t),
            "threads": on_threads,
            "cluster": lambda: ests["cluster"].fit(*on_cluster[:2], task_ids=on_cluster[2]),
        }
        # the first cluster fit loads the numba kernels in every worker: timed apart
        out["cluster_first"] = timed(contenders["cluster"])[0]
        out["times"], _ = race(contenders, cfg["repeats"], "b: NumPy vs dask")
        with distributed.get_task_stream(client) as stream:
            contenders["cluster"]()
        out["cluster_tasks"] = len(stream.data)
        out["cluster_workers"] = len({rec["worker"] for rec in stream.data})
    out |= {f"{k}_err": fit_err(vars(ests[k]), vars(ests["numpy"])) for k in ("threads", "cluster")}
    return out | dict(solver=ests["numpy"].solver_, n_iter=ests["numpy"].n_iter_)


# --- c. many tasks -------------------------------------------------------------------------------


def many_tasks_run(cfg):
    """Fresh process: the data of c, a warm-up on a tiny pcg problem, the fit (time, peak RSS,
    profile); with ``cfg["stages"]`` the peak RSS rise of the data pass and of the solve apart."""
    folder = pathlib.Path(cfg["folder"])
    X, y, t = (np.load(folder / f"{name}.npy") for name in "Xyt")
    graph, knn = sp.load_npz(folder / "graph.npz"), dict(structure="knn", random_state=1)
    Xw, yw, tw, gw = make_multitask_regression(500, 5, cfg["n_features"], **knn)
    MultiTaskGraphRegressor(gw, solver="pcg").fit(Xw, yw, task_ids=tw)
    if cfg.get("stages"):  # by ``mtreg.core``
        task_graph, base = core.task_graph(graph), reset_peak_rss()
        stats = core.task_stats(X, y, t, n_tasks=graph.shape[0])
        stages = dict(moments=rss("VmHWM") - base, stats_bytes=nbytes(*vars(stats).values()))
        solve = lambda: core.graph_ridge(stats, task_graph, alpha=ALPHA, l2=L2, solver="pcg")  # noqa: E731
        base, (stages["solve_seconds"], _) = reset_peak_rss(), timed(solve)
        return stages | dict(solve=rss("VmHWM") - base)
    est, before = MultiTaskGraphRegressor(graph, alpha=ALPHA, l2=L2), reset_peak_rss()
    fit = lambda: est.fit(X, y, task_ids=t)  # noqa: E731
    times, peak = [timed(fit)[0]], rss("VmHWM")  # the peak of the first fit
    times += [timed(fit)[0] for _ in range(cfg["repeats"] - 1)]
    keep(est, folder / "fit.npz")
    out = dict(before=before, peak=peak, times=times, solver=est.solver_, n_iter=est.n_iter_)
    return out | (dict(profile=O.profile(fit)["rows"]) if cfg["profile"] else {})


def save(folder, X, y, t, graph):
    """The rows and graph of a fit run by ``many_tasks_run`` in a fresh interpreter."""
    for name, value in (("X", X), ("y", y), ("t", t)):
        np.save(pathlib.Path(folder) / f"{name}.npy", value)
    sp.save_npz(pathlib.Path(folder) / "graph.npz", sp.csr_matrix(graph))


def scenario_c(cfg, folder):
    print(f"c: {cfg['n_tasks']:,} tasks ...", file=sys.stderr)
    size = (cfg["n_tasks"], cfg["rows_per_task"], cfg["n_features"])
    knn = dict(structure="knn", n_neighbors=cfg["n_neighbors"], random_state=0)
    gen, (X, y, t, graph) = timed(lambda: make_multitask_regression(*size, **knn))
    save(folder, X, y, t, graph)
    out = child(many_tasks_run, dict(cfg, folder=folder))
    stages = dict(cfg, folder=folder, stages=True)  # fixed mmap threshold: freed arrays leave RSS
    out["stages"] = child(many_tasks_run, stages, MALLOC_MMAP_THRESHOLD_="65536")
    fit = np.load(pathlib.Path(folder) / "fit.npz")
    assert out["solver"] == "pcg", out["solver"]
    out["rel_grad"] = O.Problem(X, y, t, graph).relative_gradient(*(fit[k] for k in COEFS))
    assert out["rel_grad"] < 1e-8, out["rel_grad"]
    return out | dict(gen_seconds=gen, n_rows=len(y), nnz=graph.nnz, data_bytes=nbytes(X, y, t))


def run(mode, only="abc", **_):
    """One row per scenario: kind "scale", the scenario's measurements."""
    cfg, rows = MODES[mode], []
    with tempfile.TemporaryDirectory() as folder:
        runs = dict(a=lambda: scenario_a(cfg["a"], folder), b=lambda: child(dask_run, cfg["b"]))
        runs["c"] = lambda: scenario_c(cfg["c"], folder)
        for s in (s for s in "abc" if s in only):
            rows.append(dict(kind="scale", suite="scale", scenario=s, cfg=cfg[s], **runs[s]()))
    return rows


# --- report ----------------------------------------------------------------------------------

B, S = R.fmt_bytes, R.fmt_seconds


def ok(value):
    return R.verdict(R.met(value, TARGETS["exact"], at_most=True))


def err(value):
    return f"{value:.1e} ({ok(value)})"


def its(n_iter):
    """ ", k it." for an iterative solver (median over solves); "" for a direct one."""
    return "" if any(k is None for k in n_iter) else f", {int(np.median(n_iter))} it."


def speed(n, seconds):
    return f"{S(seconds)}; {n / seconds / 1e6:.2f} M/s"


def streaming(a):
    cfg, mem = a["cfg"], a["memory"]
    n, T, d, data = cfg["n_rows"], cfg["n_tasks"], cfg["n_features"], mem["data_bytes"]
    rows, memory = [], []
    for r in a["runs"]:
        gen, fit = float(np.sum(r["gen_times"])), float(np.sum(r["fit_times"]))
        fit += r["solve_seconds"]
        rise, how = max(r["hwm"].values()) - r["before"], its(r["n_iter"])
        what = (f"partial_fit, {r['n_chunks']:,} chunks of {r['chunk']:,} rows, then one solve "
                f"({r['solver']}{how})")  # fmt: skip
        rows.append([what, S(gen + fit), speed(n, fit), B(max(r["hwm_start"], *r["hwm"].values())),
                     f"{B(rise)} ({rise / data:.1%} of the data)", err(r["err"])])  # fmt: skip
        marks = sorted((int(k), v) for k, v in r["hwm"].items())
        marks = "; ".join(f"{k * r['chunk']:,} rows: {B(v)}" for k, v in marks)
        memory.append([f"{r['chunk']:,}", B(r["chunk_bytes"]), B(r["hwm_start"]), B(r["before"]),
                       marks, B(r["end_rss"]), B(r["traced_call"]),
                       S(float(np.median(r["fit_times"]))), S(r["solve_seconds"]),
                       f"{r['solve_seconds'] / fit:.0%}"])  # fmt: skip
    peak, fit = max(mem["hwm_data"], mem["hwm_fit"]), max(mem["hwm_fit"] - mem["before"], 0)
    rows.append([f"one fit, all rows in memory ({mem['solver']}{its([mem['n_iter']])})",
                 S(mem["gen_seconds"] + mem["seconds"]), speed(n, mem["seconds"]), B(peak),
                 f"{B(peak - mem['before_data'])} (of it the fit: {B(fit)})",
                 "(reference)"])  # fmt: skip
    exact = [[f"{e['n_tasks']:,}", f"{e['n_rows']:,}", e["n_chunks"], e["first_chunk_tasks"],
              "yes" if e["weights"] else "no", e["solver"], f"{e['coef']:.1e}",
              f"{e['intercept']:.1e}", ok(max(e["coef"], e["intercept"]))]
             for e in a["exact"]]  # fmt: skip
    header = (
        f"a. n={n:,} rows, T={T:,}, d={d}, 10-NN graph | time with data generation | fit time; "
        "rows/s | peak RSS of the process | peak RSS rise after warm-up | max rel. diff of "
        "coef_, intercept_ to the in-memory fit (<= 1e-10)"
    )
    exact_header = (
        "T | rows | chunks | tasks in chunk 1 | sample weights | solver | coef_ rel. diff | "
        "intercept_ rel. diff | <= 1e-10"
    )
    memory_header = (
        "chunk rows | one chunk (X, y, t) | peak RSS after imports + warm-up | RSS before the "
        "stream | peak RSS (VmHWM) after ... rows | RSS at the end | tracemalloc peak of one "
        "partial_fit | partial_fit per chunk (median) | the solve, at the first read of coef_ | "
        "its share of the fit time"
    )
    text = f"**a. Streaming.** Data n (d + 2) 8 bytes = {B(data)}; 8 T d^2 = {B(8 * T * d * d)}; "
    text += 'the "rise" is over the RSS after imports and warm-up.\n\n' + R.table(header, rows)
    return text, [
        "### a. Exactness of partial_fit on small instances",
        R.table(exact_header, exact),
        "### a. Memory of the streams: O(T d^2 + chunk), not O(n)",
        R.table(memory_header, memory),
    ]


def dask(b):
    from .run import compare

    times, cfg = b["times"], b["cfg"]
    numpy = "NumPy arrays in memory (reference)"
    rows = [[numpy, R.fmt_spread(times["numpy"]), "1", "(reference)"]]
    names = dict(
        threads="dask arrays, threaded scheduler (2 threads)",
        cluster="dask arrays on a LocalCluster (2 workers x 1 thread, 127.0.0.1)",
    )
    for key, label in names.items():
        row = compare({}, label, times[key], times["numpy"], fmt="{:.2f}")
        rows.append(row | dict(err=err(b[f"{key}_err"])))
    header = (
        f"b. n={cfg['n_rows']:,}, T={cfg['n_tasks']:,}, d={cfg['n_features']}, {b['n_chunks']} "
        f"chunks ({b['solver']}{its([b['n_iter']])}) | fit: median (min–max) | ratio to NumPy "
        "(median of pairs) | max rel. diff of coef_, intercept_ to NumPy (<= 1e-10)"
    )
    table = R.compare_table(rows, header, ("contender", "theirs", "ratio", "err"))
    return f"**b. Dask.** Data {B(b['data_bytes'])}, persisted.\n\n" + table, [
        "### b. Dask: cluster costs and where the work ran",
        f"- LocalCluster start {S(b['cluster_start'])}; persisting the {b['n_chunks']} chunks "
        f"{S(b['persist_cluster'])}; first fit (workers load numba) {S(b['cluster_first'])}, "
        f"not in the medians.\n- One cluster fit: {b['cluster_tasks']} tasks on "
        f"{b['cluster_workers']} workers; only the O(T d^2) chunk moments travel.",
    ]


def many_tasks(c, mode):
    cfg, times = c["cfg"], c["times"]
    t_ok = R.met(float(np.median(times)), TARGETS["c_time"], at_most=True)
    m_ok = R.met(c["peak"], TARGETS["c_memory"], at_most=True)
    judged = f"<= 60 s: {R.verdict(t_ok)}; <= 4 GB: {R.verdict(m_ok)}"
    if mode != "full":
        judged = "<= 60 s: -; <= 4 GB: - (full-size target; not judged here)"
    row = [f"{cfg['n_tasks']:,}", f"{c['n_rows']:,}", cfg["n_features"], f"{c['nnz']:,}",
           f"{c['solver']}, {c['n_iter']} it.", R.fmt_spread(times),
           f"{B(c['peak'])} (fit: {B(c['peak'] - c['before'])})", f"{c['rel_grad']:.1e}",
           judged]  # fmt: skip
    header = (
        "c. T | n | d | nnz(A) | solver | fit: median (min–max) | peak RSS of the process (of it "
        "the fit) | rel. gradient of J | targets met"
    )
    text = '**c. Many tasks**, 20 rows per task, `solver="auto"` (asserted: pcg).\n\n'
    T, d, s = cfg["n_tasks"], cfg["n_features"], c["stages"]
    unit_g, unit_a, rise = 8 * T * d * d, 8 * c["nnz"] * d, c["peak"] - c["before"]
    details = [
        "### c. Memory of the many-task fit",
        f"Units: 8 T d^2 = {B(unit_g)}; 8 nnz(A) d = {B(unit_a)}; 8 n = {B(8 * c['n_rows'])}; "
        f"X, y, t = {B(c['data_bytes'])}.\n\n- Whole fit: {B(rise)} = "
        f"{rise / (unit_g + unit_a):.1f} x 8 (T d^2 + nnz(A) d) = {rise / unit_g:.1f} x 8 T "
        "d^2.\n- Apart (fresh process, `MALLOC_MMAP_THRESHOLD_=65536`): data pass "
        f"{B(s['moments'])} (moments {B(s['stats_bytes'])} = {s['stats_bytes'] / unit_g:.2f} x "
        f"8 T d^2, the rest O(n)); pcg solve ({S(s['solve_seconds'])}) {B(s['solve'])} = "
        f"{s['solve'] / unit_g:.1f} x 8 T d^2. No copy of X.",
    ]
    if c.get("profile"):
        body = [[n, S(own), S(cum), calls] for n, own, cum, calls in c["profile"]]
        details += ["### c. Where the time of one fit goes (cProfile, own time)",
                    R.table("function | own time | cumulative | calls", body)]  # fmt: skip
    return text + R.table(header, [row]), details


PROTOCOL = """\
- `MultiTaskGraphRegressor(graph=A, tasks=range(T))`, alpha = l2 = 1, intercepts. Every fresh
  interpreter warms up on a tiny problem and resets its peak RSS before measuring.
- a, b: one planted model, `make_multitask_regression(T, 1, d, structure="knn", coef=True,
  random_state=0)`; row block k from `default_rng([0, k])`: the same rows however chunked.
- a: each stream and the in-memory fit in a fresh interpreter (VmHWM after chunk 1, 10% and
  100% of the rows); one run per chunk size; partial_fit adds the chunk's moments and the
  one solve runs at the first read of coef_ (timed apart, counted in the fit); tracemalloc
  of one more `partial_fit`. Exactness: small chunked instances against one `fit` (one BLAS thread).
- b: chunks built inside dask and persisted before timing; the NumPy fit on the same rows.
- c: `make_multitask_regression(T, 20, d, structure="knn", random_state=0)` on disk, fitted
  in a fresh interpreter (first fit's peak, R - 1 more for the median, cProfile in full
  mode); data-pass and solve memory apart in a second one.
"""


def sections(rows, mode, folder):
    """(protocol, results, details) of the report."""
    by = {r["scenario"]: r for r in R.of(rows, "scale")}
    reports = dict(a=streaming, b=dask, c=lambda c: many_tasks(c, mode))
    parts = [reports[s](by[s]) for s in "abc" if s in by]
    return PROTOCOL + R.TIMING, "\n\n".join(p[0] for p in parts), [d for p in parts for d in p[1]]
