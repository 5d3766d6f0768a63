"""Beyond one machine's memory: streaming, Dask and many tasks (issue 7).

Squared-loss fits need only per-task moments, additive over rows (DESIGN.md section 2).
Three scenarios, alpha = 1, l2 = 1, intercepts fitted:

a. streaming: ``partial_fit`` over 10^7 rows (T=1,000, d=20, symmetric 10-NN task graph)
   in chunks of 10^5 and of 10^6 rows, generated chunk by chunk from one planted model so
   that the full data never exists; peak RSS against the size of the data, rows/s; the
   result against one ``fit`` of the same rows held in memory, and exactness on small
   instances.
b. Dask: the same kind of data as dask arrays (n=2*10^6, 10 chunks), fitted on the
   threaded scheduler and on a ``distributed.LocalCluster`` against the NumPy fit.
c. many tasks: T=100,000 tasks, 20 rows each, d=10, symmetric 10-NN graph: the "pcg" fit
   in a fresh process, time and peak memory against <= 60 s and <= 4 GB.

The heavy runs happen in fresh interpreters (``python -c``) that call the ``*_run``
functions below and print JSON. Run ``python benchmarks/bench_scale.py [--quick]`` from
the repository root (or ``python -m benchmarks [--full]``).
"""

import argparse
import copy
import cProfile
import json
import os
import pathlib
import pstats
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import _util as U  # noqa: E402
from benchmarks._scale_report import report  # noqa: E402
from mtreg import (
    MultiTaskGraphRegressor,  # noqa: E402
    core,  # noqa: E402
)
from mtreg.datasets import make_multitask_regression  # noqa: E402

ALPHA, L2, NOISE = 1.0, 1.0, 1.0
ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# fmt: off
MODES = {
    "full": {
        "a": dict(n_tasks=1000, n_features=20, n_neighbors=10, n_rows=10**7, block=10**5,
                  chunks=[10**5, 10**6], exact_rows=100_000, exact_chunk=10_000),
        "b": dict(n_tasks=1000, n_features=20, n_neighbors=10, n_rows=2 * 10**6,
                  chunk=2 * 10**5, repeats=5),
        "c": dict(n_tasks=100_000, rows_per_task=20, n_features=10, n_neighbors=10,
                  repeats=3, profile=True),
    },
    "quick": {
        "a": dict(n_tasks=1000, n_features=20, n_neighbors=10, n_rows=10**6, block=10**4,
                  chunks=[10**5, 5 * 10**5], exact_rows=25_000, exact_chunk=5_000),
        "b": dict(n_tasks=1000, n_features=20, n_neighbors=10, n_rows=2 * 10**5,
                  chunk=2 * 10**4, repeats=3),
        "c": dict(n_tasks=10_000, rows_per_task=20, n_features=10, n_neighbors=10,
                  repeats=3, profile=False),
    },
}
# fmt: on
TARGETS = {"exact": 1e-10, "c_time": 60.0, "c_memory": 4 * 1024**3}


# --- data: one planted model, rows generated block by block ---------------------------


@dataclass
class Planted:
    """A planted kNN-structured linear model; block k of rows is drawn from seed (seed, k)."""

    coef: np.ndarray
    intercept: np.ndarray
    graph: sp.csr_matrix
    seed: int


def planted_model(n_tasks, n_features, n_neighbors, seed=0):
    _, _, _, graph, coef, intercept = make_multitask_regression(
        n_tasks,
        1,
        n_features,
        structure="knn",
        n_neighbors=n_neighbors,
        coef=True,
        random_state=seed,
    )
    return Planted(coef, intercept, graph, seed)


def make_rows(model, first_block, n_blocks, block, weights=False):
    """Rows of blocks first_block, ..., first_block + n_blocks - 1 of the model's stream.

    Rows are the same however they are grouped into chunks: the k-th block always comes
    from the generator seeded (seed, k). Tasks are drawn uniformly, y = x . w_t + b_t +
    noise. Arrays are filled in place, so a chunk costs its own size plus one block.
    """
    T, d = model.coef.shape
    m = n_blocks * block
    X, y, t = np.empty((m, d)), np.empty(m), np.empty(m, dtype=np.int64)
    s = np.empty(m) if weights else None
    for j in range(n_blocks):
        rng = np.random.default_rng([model.seed, first_block + j])
        rows = slice(j * block, (j + 1) * block)
        rng.standard_normal(out=X[rows])
        t[rows] = rng.integers(0, T, size=block)
        y[rows] = np.einsum("ij,ij->i", X[rows], model.coef[t[rows]])
        y[rows] += model.intercept[t[rows]] + NOISE * rng.standard_normal(block)
        if weights:
            s[rows] = rng.uniform(0.5, 2.0, size=block)
    return (X, y, t, s) if weights else (X, y, t)


def estimator(model, **params):
    tasks = np.arange(model.coef.shape[0])  # chunks need not show every task
    return MultiTaskGraphRegressor(model.graph, alpha=ALPHA, l2=L2, tasks=tasks, **params)


def rel_diff(a, b):
    """max |a - b| / max |b|."""
    return float(np.abs(np.asarray(a) - b).max() / np.abs(b).max())


# --- a. streaming ---------------------------------------------------------------------


def _model_of(cfg):
    return planted_model(cfg["n_tasks"], cfg["n_features"], cfg["n_neighbors"])


def _warm_up(model, stream):
    """The same code path on a tiny problem, so that no JIT work is measured."""
    X, y, t = make_rows(model, 10**9, 2, 1000)
    est = estimator(model)
    if stream:
        est.partial_fit(X[:1000], y[:1000], task_ids=t[:1000])
        est.partial_fit(X[1000:], y[1000:], task_ids=t[1000:])
    else:
        est.fit(X, y, task_ids=t)


def stream_run(cfg):
    """Fresh process: partial_fit over cfg["n_rows"] rows in chunks of cfg["chunk"] rows."""
    model = _model_of(cfg)
    _warm_up(model, stream=True)
    hwm_start = U.peak_rss_bytes()
    reset = U.reset_peak_rss()
    before = U.current_rss_bytes()
    per_chunk = cfg["chunk"] // cfg["block"]
    n_chunks = cfg["n_rows"] // cfg["chunk"]
    checkpoints = sorted({1, max(n_chunks // 10, 1), n_chunks})
    est = estimator(model)
    gen_times, fit_times, n_iter, hwm = [], [], [], {}
    for k in range(n_chunks):
        seconds, (X, y, t) = U.timed(
            lambda k=k: make_rows(model, k * per_chunk, per_chunk, cfg["block"])
        )
        gen_times.append(seconds)
        fit_times.append(U.timed(lambda X=X, y=y, t=t: est.partial_fit(X, y, task_ids=t))[0])
        n_iter.append(est.n_iter_)
        del X, y, t  # the next chunk must not meet this one in memory
        if k + 1 in checkpoints:
            hwm[k + 1] = U.peak_rss_bytes()
    end_rss = U.current_rss_bytes()
    np.savez(cfg["out"], coef=est.coef_, intercept=est.intercept_)
    X, y, t = make_rows(model, 0, per_chunk, cfg["block"])
    solve = float(np.median([_solve_only_seconds(est, X, y, t) for _ in range(5)]))
    spare = copy.deepcopy(est)  # one more chunk, on a copy: the saved result stays as is
    traced, _ = U.traced_peak(lambda: spare.partial_fit(X, y, task_ids=t))
    return dict(
        chunk=cfg["chunk"],
        n_chunks=n_chunks,
        hwm_start=hwm_start,
        reset=reset,
        before=before,
        hwm={str(k): v for k, v in hwm.items()},
        end_rss=end_rss,
        gen_times=gen_times,
        fit_times=fit_times,
        n_iter=n_iter,
        solver=est.solver_,
        solve_seconds=solve,
        traced_call=traced,
        chunk_bytes=X.nbytes + y.nbytes + t.nbytes,
    )


def _solve_only_seconds(est, X, y, t):
    """Time of the solve that partial_fit repeats after every chunk: ``mtreg.core.graph_ridge``
    on the moments of one chunk (its cost depends on T and d, not on the rows seen)."""
    T = len(est.tasks_)
    stats = core.task_stats(X, y, np.searchsorted(est.tasks_, t), n_tasks=T)
    graph = core.task_graph(est.graph_.adjacency_matrix(), n_tasks=T)
    return U.timed(lambda: core.graph_ridge(stats, graph, alpha=ALPHA, l2=L2, solver=est.solver_))[
        0
    ]


def in_memory_run(cfg):
    """Fresh process: all rows in memory (the same rows as the streams), one fit."""
    model = _model_of(cfg)
    _warm_up(model, stream=False)
    before_data = U.current_rss_bytes()
    gen, (X, y, t) = U.timed(
        lambda: make_rows(model, 0, cfg["n_rows"] // cfg["block"], cfg["block"])
    )
    hwm_data = U.peak_rss_bytes()
    reset = U.reset_peak_rss()
    before = U.current_rss_bytes()
    est = estimator(model)
    seconds, _ = U.timed(lambda: est.fit(X, y, task_ids=t))
    hwm_fit = U.peak_rss_bytes()
    np.savez(cfg["out"], coef=est.coef_, intercept=est.intercept_)
    return dict(
        gen_seconds=gen,
        seconds=seconds,
        hwm_data=hwm_data,
        reset=reset,
        before_data=before_data,
        before=before,
        hwm_fit=hwm_fit,
        data_bytes=X.nbytes + y.nbytes + t.nbytes,
        solver=est.solver_,
        n_iter=est.n_iter_,
    )


def exactness(n_tasks, cfg, weights=False):
    """partial_fit over chunks against one fit on their concatenation (small instance)."""
    from threadpoolctl import threadpool_limits

    # untimed: one BLAS thread, since a multi-threaded dense Cholesky (T=139: 2780 x 2780)
    # is many times slower when other processes hold the cores
    with threadpool_limits(1):
        return _exactness(n_tasks, cfg, weights)


def _exactness(n_tasks, cfg, weights):
    model = planted_model(n_tasks, cfg["n_features"], cfg["n_neighbors"])
    block = cfg["exact_chunk"]
    chunks = [make_rows(model, k, 1, block, weights) for k in range(cfg["exact_rows"] // block)]
    streamed = estimator(model)
    for chunk in chunks:
        streamed.partial_fit(*chunk[:3], sample_weight=chunk[3] if weights else None)
    X, y, t, *s = (np.concatenate(parts) for parts in zip(*chunks, strict=True))
    whole = estimator(model).fit(X, y, task_ids=t, sample_weight=s[0] if weights else None)
    first_chunk_tasks = len(np.unique(chunks[0][2]))
    return dict(
        n_tasks=n_tasks,
        n_rows=len(X),
        n_chunks=len(chunks),
        weights=weights,
        solver=whole.solver_,
        first_chunk_tasks=first_chunk_tasks,
        coef=rel_diff(streamed.coef_, whole.coef_),
        intercept=rel_diff(streamed.intercept_, whole.intercept_),
    )


def scenario_a(cfg, folder):
    runs = []
    for chunk in cfg["chunks"]:
        out = str(pathlib.Path(folder) / f"stream{chunk}.npz")
        print(f"a: streaming {cfg['n_rows']:,} rows in chunks of {chunk:,} ...", file=sys.stderr)
        runs.append(_child("stream_run", dict(cfg, chunk=chunk, out=out)))
        runs[-1]["result"] = dict(np.load(out))
    print(f"a: one fit of the {cfg['n_rows']:,} rows in memory ...", file=sys.stderr)
    out = str(pathlib.Path(folder) / "memory.npz")
    memory = _child("in_memory_run", dict(cfg, out=out))
    ref = dict(np.load(out))
    for run in runs:
        run["coef_err"] = rel_diff(run["result"]["coef"], ref["coef"])
        run["intercept_err"] = rel_diff(run["result"]["intercept"], ref["intercept"])
        del run["result"]
    exact = [exactness(139, cfg), exactness(139, cfg, weights=True), exactness(cfg["n_tasks"], cfg)]
    return dict(runs=runs, memory=memory, exact=exact)


# --- b. Dask ---------------------------------------------------------------------------


def dask_arrays(model, n_rows, chunk):
    """Lazy dask arrays whose chunk k is make_rows(model, k, 1, chunk), built where it runs."""
    import dask
    import dask.array as da

    d = model.coef.shape[1]
    parts = [dask.delayed(make_rows, nout=3)(model, k, 1, chunk) for k in range(n_rows // chunk)]
    shapes = [(chunk, d), (chunk,), (chunk,)]
    dtypes = [np.float64, np.float64, np.int64]
    return [
        da.concatenate([da.from_delayed(p[j], shapes[j], dtype=dtypes[j]) for p in parts])
        for j in range(3)
    ]


def dask_run(cfg):
    """Fresh process: NumPy fit vs dask on threads vs dask on a 2-worker LocalCluster."""
    import dask
    import distributed

    model = _model_of(cfg)
    lazy = dask_arrays(model, cfg["n_rows"], cfg["chunk"])
    X, y, t = dask.compute(*lazy, scheduler="threads")
    local = dask.persist(*lazy, scheduler="threads")
    out = dict(data_bytes=X.nbytes + y.nbytes + t.nbytes, n_chunks=len(lazy[0].chunks[0]))
    start = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        out["cluster_start"] = time.perf_counter() - start
        on_cluster = client.persist(lazy)
        out["persist_cluster"] = U.timed(lambda: distributed.wait(on_cluster))[0]
        numpy_est, thread_est, cluster_est = estimator(model), estimator(model), estimator(model)

        def on_threads():
            with dask.config.set(scheduler="threads"):
                return thread_est.fit(*local[:2], task_ids=local[2])

        contenders = {
            "numpy": lambda: numpy_est.fit(X, y, task_ids=t),
            "threads": on_threads,
            "cluster": lambda: cluster_est.fit(*on_cluster[:2], task_ids=on_cluster[2]),
        }
        # the first cluster fit loads the numba kernels in every worker: timed apart
        out["cluster_first"] = U.timed(contenders["cluster"])[0]
        times, _ = U.paired_timings(contenders, cfg["repeats"], "b: NumPy vs dask")
        with distributed.get_task_stream(client) as stream:
            contenders["cluster"]()
        out["cluster_tasks"] = len(stream.data)
        out["cluster_workers"] = len({rec["worker"] for rec in stream.data})
    out["times"] = {k: v.tolist() for k, v in times.items()}
    for name, est in (("threads", thread_est), ("cluster", cluster_est)):
        out[f"{name}_coef_err"] = rel_diff(est.coef_, numpy_est.coef_)
        out[f"{name}_intercept_err"] = rel_diff(est.intercept_, numpy_est.intercept_)
    out.update(solver=numpy_est.solver_, n_iter=numpy_est.n_iter_)
    return out


def scenario_b(cfg):
    print(f"b: dask, n={cfg['n_rows']:,} in chunks of {cfg['chunk']:,} ...", file=sys.stderr)
    return _child("dask_run", cfg)


# --- c. many tasks ---------------------------------------------------------------------


def many_tasks_data(cfg):
    return make_multitask_regression(
        cfg["n_tasks"],
        cfg["rows_per_task"],
        cfg["n_features"],
        structure="knn",
        n_neighbors=cfg["n_neighbors"],
        random_state=0,
    )


def many_tasks_run(cfg):
    """Fresh process: load the data, warm up, then the fit: time, peak RSS, stages."""
    folder = pathlib.Path(cfg["folder"])
    X, y, t = (np.load(folder / f"{name}.npy") for name in ("X", "y", "t"))
    graph = sp.load_npz(folder / "graph.npz")
    _many_tasks_warm_up(cfg["n_features"])
    reset = U.reset_peak_rss()
    before = U.current_rss_bytes()
    est = MultiTaskGraphRegressor(graph, alpha=ALPHA, l2=L2)
    first, _ = U.timed(lambda: est.fit(X, y, task_ids=t))
    peak = U.peak_rss_bytes()
    times = [first] + [
        U.timed(lambda: est.fit(X, y, task_ids=t))[0] for _ in range(cfg["repeats"] - 1)
    ]
    np.savez(folder / "fit.npz", coef=est.coef_, intercept=est.intercept_)
    out = dict(
        reset=reset, before=before, peak=peak, times=times, solver=est.solver_, n_iter=est.n_iter_
    )
    if cfg["profile"]:
        out["profile"] = _profile(lambda: est.fit(X, y, task_ids=t))
    return out


def _many_tasks_warm_up(n_features):
    Xw, yw, tw, gw = make_multitask_regression(500, 5, n_features, structure="knn", random_state=1)
    return MultiTaskGraphRegressor(gw, solver="pcg").fit(Xw, yw, task_ids=tw)


def stages_run(cfg):
    """Fresh process: peak RSS rise of the data pass, then of the solve (private API).

    Run with a fixed glibc mmap threshold, so that freed large arrays leave the RSS and a
    stage's rise is not hidden by memory an earlier stage left in the heap.
    """
    folder = pathlib.Path(cfg["folder"])
    X, y, t = (np.load(folder / f"{name}.npy") for name in ("X", "y", "t"))
    graph = sp.load_npz(folder / "graph.npz")
    _many_tasks_warm_up(cfg["n_features"])
    T = graph.shape[0]
    task_graph = core.task_graph(graph)
    stages = {}
    U.reset_peak_rss()
    base = U.current_rss_bytes()
    stats = core.task_stats(X, y, t, n_tasks=T)
    stages["moments"] = U.peak_rss_bytes() - base
    stages["stats_bytes"] = sum(a.nbytes for a in vars(stats).values())
    U.reset_peak_rss()
    base = U.current_rss_bytes()
    seconds, _ = U.timed(
        lambda: core.graph_ridge(stats, task_graph, alpha=ALPHA, l2=L2, solver="pcg")
    )
    stages["solve"] = U.peak_rss_bytes() - base
    stages["solve_seconds"] = seconds
    return stages


def _profile(func, top=10):
    """The functions with the most own time in one call: (name, own s, cumulative s, calls)."""
    profiler = cProfile.Profile()
    profiler.runcall(func)
    stats = pstats.Stats(profiler).sort_stats("tottime")
    rows = []
    for (path, line, name), (_, calls, own, cum, _) in list(stats.stats.items()):
        short = path.split("site-packages/")[-1].split(str(ROOT) + "/")[-1]
        rows.append([f"{short}:{line}({name})", own, cum, calls])
    return sorted(rows, key=lambda r: -r[1])[:top]


def relative_gradient(W, b, X, y, t, graph):
    """||grad J(W, b)|| / ||grad J(0, 0)||, J from mtreg.core (plain NumPy)."""
    from benchmarks.objective import Problem

    return Problem(X, y, t, graph).relative_gradient(W, b)


def scenario_c(cfg, folder):
    print(f"c: {cfg['n_tasks']:,} tasks ...", file=sys.stderr)
    gen, (X, y, t, graph) = U.timed(lambda: many_tasks_data(cfg))
    folder = pathlib.Path(folder)
    for name, value in (("X", X), ("y", y), ("t", t)):
        np.save(folder / f"{name}.npy", value)
    sp.save_npz(folder / "graph.npz", graph)
    out = _child("many_tasks_run", dict(cfg, folder=str(folder)))
    out["stages"] = _child(
        "stages_run", dict(cfg, folder=str(folder)), env=dict(MALLOC_MMAP_THRESHOLD_="65536")
    )
    fit = np.load(folder / "fit.npz")
    assert out["solver"] == "pcg", out["solver"]
    out["rel_grad"] = relative_gradient(fit["coef"], fit["intercept"], X, y, t, graph)
    assert out["rel_grad"] < 1e-8, out["rel_grad"]
    out.update(
        gen_seconds=gen, n_rows=len(y), nnz=graph.nnz, data_bytes=X.nbytes + y.nbytes + t.nbytes
    )
    return out


# --- driver ----------------------------------------------------------------------------

CHILD = """
import json, os, sys
sys.path.insert(0, os.environ["BENCH_ROOT"])
from benchmarks import bench_scale
run = getattr(bench_scale, os.environ["BENCH_RUN"])
print(json.dumps(run(json.loads(os.environ["BENCH_CFG"]))))
"""


def _child(run, cfg, env=None):
    """bench_scale.<run>(cfg) in a fresh interpreter; its JSON result."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(
        env or {}, BENCH_ROOT=str(ROOT), BENCH_RUN=run, BENCH_CFG=json.dumps(cfg), PYTHONPATH=path
    )
    return U.run_python(CHILD, env=env, timeout=3600)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="smaller sizes, about a minute")
    group.add_argument("--full", action="store_true", help="the full sizes (default)")
    parser.add_argument("--only", default="abc", help="scenarios to run, e.g. 'ac'")
    parser.add_argument("--budget", type=float, help="ignored (for python -m benchmarks)")
    parser.add_argument(
        "--no-cold-start",
        action="store_true",
        help="ignored: the first cluster fit is timed apart anyway",
    )
    parser.add_argument("--blas-threads", type=int, help="limit BLAS/OpenMP threads")
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write")
    args = parser.parse_args(argv)
    if not args.only or set(args.only) - set("abc"):
        parser.error(f"--only takes letters among 'abc', got {args.only!r}")
    if args.blas_threads:
        U.limit_blas_threads(args.blas_threads)
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    start = time.perf_counter()
    info = U.machine_info()
    with tempfile.TemporaryDirectory() as folder:
        a = scenario_a(cfg["a"], folder) if "a" in args.only else None
        b = scenario_b(cfg["b"]) if "b" in args.only else None
        c = scenario_c(cfg["c"], folder) if "c" in args.only else None
    text = report(mode, cfg, TARGETS, info, a, b, c, time.perf_counter() - start)
    output = args.output or RESULTS / ("scale.md" if mode == "full" else "scale-quick.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
