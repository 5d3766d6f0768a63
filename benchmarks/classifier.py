"""The classifier suite: time of MultiTaskGraphClassifier's solvers to 1e-6 suboptimality,
against scipy's L-BFGS-B on the same NumPy J (benchopt style)."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from . import datasets as D
from . import report as R
from .objective import lbfgs, profile, progress, race, timed

TARGET_GAP, CURVE_FLOOR, TARGET_SPEEDUP = 1e-6, 1e-10, 5.0
TOL_OFF = 1e-15  # tol of the ladder fits: max_iter alone stops them
SOLVERS = ("newton", "lbfgs", "fista")
MAX_ITER = {"newton": 50, "lbfgs": 2000, "fista": 5000}  # caps of the ladders
ONE_THREAD = ", 1 thread"  # suffix of the contenders timed under threadpool_limits(1)
ONE_THREAD_LABEL = ", every library on one thread"
MODES = {
    "full": dict(a=dict(repeats=21, curve_repeats=5, budget=60.0),
                 b=dict(n_samples=200, repeats=5, curve_repeats=3, budget=300.0)),
    "quick": dict(a=dict(repeats=11, curve_repeats=1, budget=20.0),
                  b=dict(n_samples=40, repeats=3, curve_repeats=1, budget=20.0)),
}  # fmt: skip
PROBLEMS = {
    "a": lambda cfg: D.landmine_sized(),
    "b": lambda cfg: D.knn_classification(1000, cfg["n_samples"], 50),
}
# every BLAS/OpenMP library, and so mtreg's row passes, on one thread (one controller: building
# one, as threadpool_limits() does, inspects every library)
on_one_thread = ThreadpoolController().wrap(limits=1)
LABELS = {s: f"mtreg {s}" for s in SOLVERS} | {"numpy": "scipy L-BFGS-B on the NumPy J"}
MILESTONES = (1e-2, 1e-4, 1e-6, 1e-8, 1e-10)


def fit(p, solver, max_iter, tol=TOL_OFF):
    return D.classifier(p, solver=solver, tol=tol, max_iter=max_iter).fit(p.X, p.y, task_ids=p.t)


def optimum(p):
    """J* from a tight Newton run, checked by the NumPy gradient and Laplacian."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = fit(p, "newton", 12, tol=1e-12)
    L = np.diag(np.asarray(p.adjacency.sum(axis=1)).ravel()) - p.adjacency.toarray()
    laplacian_err = float(np.abs(sp.csr_matrix(est.laplacian_).toarray() - L).max())
    rel_grad = p.relative_gradient(est.coef_, est.intercept_)
    assert laplacian_err < 1e-12 and rel_grad < 1e-9, (laplacian_err, rel_grad)
    balance = np.bincount(p.t, weights=p.y) / np.bincount(p.t)
    out = dict(J_star=p.J(est.coef_, est.intercept_), n_iter=int(est.n_iter_[0]))
    out |= dict(rel_grad=rel_grad, laplacian_err=laplacian_err, positives=float(p.y.mean()))
    warning = "; ".join(str(w.message) for w in caught)
    return out | dict(balance=(balance.min(), balance.max()), warning=warning)


def ladder(p, solver, cfg, J_star):
    """(max_iter, seconds, gap, n_iter) of whole fits with max_iter = 1, 2, 3, 4, 6, 8, 11, ...
    (median of ``curve_repeats``), until CURVE_FLOOR, the solver's own stop, its cap or budget."""
    points, spent, k = [], 0.0, 1
    fit(p, solver, 2)  # warm-up: JIT and caches out of the timings
    while k <= MAX_ITER[solver]:
        runs = [timed(lambda k=k: fit(p, solver, k)) for _ in range(cfg["curve_repeats"])]
        spent += sum(s for s, _ in runs)
        est = runs[-1][1]
        gap = p.gap(est.coef_, est.intercept_, J_star)
        points.append((k, float(np.median([s for s, _ in runs])), gap, int(est.n_iter_[0])))
        if gap <= CURVE_FLOOR or est.n_iter_[0] < k or spent > cfg["budget"]:
            break
        k = max(k + 1, int(round(k * 1.4)))
    return points


def first_at_target(p, solver, points, J_star):
    """Smallest max_iter whose fit reaches TARGET_GAP: bisection between two rungs."""
    hits = [q for q in points if q[2] <= TARGET_GAP]
    if not hits:
        return None, None
    hi, gap_hi = hits[0][0], hits[0][2]
    lo = max([q[0] for q in points if q[0] < hi], default=0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        est = fit(p, solver, mid)
        gap = p.gap(est.coef_, est.intercept_, J_star)
        hi, lo, gap_hi = (mid, lo, gap) if gap <= TARGET_GAP else (hi, mid, gap_hi)
    return hi, gap_hi


def default_fit(p, solver, repeats, J_star):
    """What a user gets: the estimator's default tol."""
    est = D.classifier(p, solver=solver)
    times = [timed(lambda: est.fit(p.X, p.y, task_ids=p.t))[0] for _ in range(repeats + 1)][1:]
    out = dict(time=float(np.median(times)), gap=p.gap(est.coef_, est.intercept_, J_star))
    return out | dict(n_iter=int(est.n_iter_[0]), tol=est.tol, solver=est.solver_)


def scenario(name, cfg):
    p = PROBLEMS[name](cfg)
    check, curves, targets, defaults = optimum(p), {}, {}, {}
    J_star = check["J_star"]
    for solver in progress(SOLVERS, f"{name}: ladders of max_iter"):
        curves[solver] = ladder(p, solver, cfg, J_star)
        targets[solver] = first_at_target(p, solver, curves[solver], J_star)
        defaults[solver] = default_fit(p, solver, cfg["curve_repeats"], J_star)
    defaults["auto"] = default_fit(p, "auto", cfg["curve_repeats"], J_star)
    numpy = on_one_thread(lambda stop=CURVE_FLOOR: lbfgs(p, J_star, stop, cfg["budget"]))
    numpy(1e-2)  # warm-up, as for the ladders
    trace = numpy()["trace"]
    numpy_hit = next((s for s, g in trace if g <= TARGET_GAP), None)
    contenders = {s: (lambda s=s, k=k: fit(p, s, k)) for s, (k, _) in targets.items() if k}
    for solver in list(contenders):  # the same fits with every library on one thread
        contenders[solver + ONE_THREAD] = on_one_thread(contenders[solver])
    if numpy_hit is not None:
        contenders["numpy"] = lambda: numpy(TARGET_GAP)
    times, results = race(contenders, cfg["repeats"], f"{name}: to 1e-6", shuffle=True)
    gap = lambda s, e: e["gap"] if s == "numpy" else p.gap(e.coef_, e.intercept_, J_star)  # noqa: E731
    gaps = {s: gap(s, e) for s, e in results.items()}
    assert all(g <= TARGET_GAP for g in gaps.values()), gaps
    lowest = min([q[2] for c in curves.values() for q in c] + [g for _, g in trace])
    profiles = {s: profile(f, 8) for s, f in contenders.items() if not s.endswith(ONE_THREAD)}
    graph = "default complete graph" if p.default_graph else "10-NN task graph"
    problem = f"{name}. T={p.T:,}, n={p.n:,}, d={p.d}, {graph}"
    numpy_n_iter = results.get("numpy", {}).get("n_iter")
    out = dict(kind="classifier", suite="classifier", scenario=name, cfg=cfg, problem=problem)
    out |= dict(check=check, curves=curves, targets=targets, defaults=defaults, times=times)
    out |= dict(numpy_trace=trace, numpy_hit=numpy_hit, numpy_n_iter=numpy_n_iter, gaps=gaps)
    return out | dict(lowest_gap=lowest, profiles=profiles)


def run(mode, only="ab", budget=None, cold=True, **_):
    """The tidy rows of the suite: one "classifier" row per scenario, and the cold starts."""
    warnings.simplefilter("ignore", ConvergenceWarning)  # the ladders stop at max_iter
    cfg = {k: dict(v, budget=budget or v["budget"]) for k, v in MODES[mode].items()}
    rows = [D.cold_row("classifier")] if cold else []
    return rows + [scenario(s, cfg[s]) for s in "ab" if s in only]


# --- report ---------------------------------------------------------------------------------


def curve(r, solver):
    """(seconds, gap) points of one contender's curve."""
    if solver == "numpy":
        return [tuple(q) for q in r["numpy_trace"]]
    return [(s, g) for _, s, g, _ in r["curves"][solver]]


def results_table(results):
    """mtreg's solvers against the NumPy route, by the shared compare row and cells."""
    from .run import compare

    rows = []
    for r in results:
        auto, numpy_times = r["defaults"]["auto"]["solver"], r["times"].get("numpy")
        theirs = f"> {R.fmt_seconds(r['cfg']['budget'])} (1e-6 not reached)"
        if numpy_times:
            theirs = f"{R.fmt_spread(numpy_times)} ({r['numpy_n_iter']} it.)"
        one_thread = [k for k in r["times"] if k.endswith(ONE_THREAD)] if numpy_times else []
        for key in [*r["targets"], *one_thread]:  # one-thread rows only against a NumPy time
            solver = key.removesuffix(ONE_THREAD)
            k, is_auto = r["targets"][solver][0], solver == auto and key == solver
            label = solver + " (auto)" if is_auto else key.replace(ONE_THREAD, ONE_THREAD_LABEL)
            c = compare({}, "numpy", numpy_times or [], r["times"].get(key, [np.nan]),
                        target="classifier" if is_auto else None, bound=r["cfg"]["budget"],
                        fmt="{:.1f}x", stopped="")  # fmt: skip
            # not timed (1e-6 not reached): no ratio, and the target, if any, missed
            cell = R.cells(c) if k else dict(ratio="", met=R.verdict(False if is_auto else None))
            mine = R.fmt_spread(c["mtreg_times"]) if k else ""
            row = [str(k) if k else "not reached", mine, theirs, cell["ratio"], c["target"]]
            rows.append([r["problem"], label, *row, cell["met"]])
    header = (
        "problem | mtreg solver | iterations to 1e-6 | mtreg: time to (J - J*)/J* <= 1e-6, median "
        "(min–max) | scipy L-BFGS-B on the NumPy J (iterations): same | speed-up (median of "
        "paired ratios) | target | met"
    )
    return R.compare_table(rows, header)


def per_problem(r):
    """Of one problem: the milestones table, the correctness line, the data of the curves
    and the profiles of the timed runs."""
    rows, c = [], r["check"]
    for solver in (*r["curves"], "numpy"):
        hits = [min((s for s, g in curve(r, solver) if g <= m), default=None) for m in MILESTONES]
        rows.append([LABELS[solver]] + [R.fmt_seconds(h) if h is not None else "—" for h in hits])
    milestones = R.table(["contender"] + [f"(J - J*)/J* <= {m:g}" for m in MILESTONES], rows)
    warned = f'; it warned: "{c["warning"]}"' if c["warning"] else ""
    gaps = ", ".join(f"{s} {g:.1e}" for s, g in r["gaps"].items())
    correct = (
        f"- {r['scenario']}: J* = {c['J_star']:.12g} ({c['n_iter']} Newton steps{warned}), "
        f"NumPy ||grad J|| / ||grad J(0)|| = {c['rel_grad']:.1e} there (assert < 1e-9); the "
        f"estimator's Laplacian against NumPy's: max diff {c['laplacian_err']:.1e}. Lowest "
        f"gap seen: {r['lowest_gap']:.1e}; timed runs: {gaps} (assert <= 1e-6). Labels: "
        f"{c['positives']:.0%} positive, {c['balance'][0]:.0%} to {c['balance'][1]:.0%} per task."
    )
    ladders, profiles = [], []
    for solver, points in r["curves"].items():
        cells = ", ".join(f"{k}: {R.fmt_seconds(s)} / {g:.1e}" for k, s, g, _ in points)
        k, gap = r["targets"][solver]
        tail = f"; first at 1e-6: max_iter={k} (gap {gap:.1e})" if k else ""
        ladders.append(f"- {solver} (max_iter: time / gap): {cells}{tail}.")
    if tr := r["numpy_trace"]:
        hit = R.fmt_seconds(r["numpy_hit"]) if r["numpy_hit"] else "— (not reached)"
        ladders.append(
            f"- scipy L-BFGS-B on the NumPy J: {len(tr)} iterations in "
            f"{R.fmt_seconds(tr[-1][0])}, last gap {tr[-1][1]:.1e}; first at 1e-6 after {hit}."
        )
    for s, prof in r["profiles"].items():
        body = [[f"{own / prof['total']:.0%}", calls, name] for name, own, _, calls in prof["rows"]]
        total = R.fmt_seconds(prof["total"])
        profiles.append(f"{LABELS[s]} (one run to 1e-6 under cProfile, {total} of own time in "
                        "all):\n\n" + R.table("own time | calls | function", body))  # fmt: skip
    head = f"**{r['problem']}**\n\n"
    return head + milestones, correct, head + "\n".join(ladders), head + "\n\n".join(profiles)


def plot(results, path):
    """Suboptimality against time, one panel per problem, one line per contender."""
    fig, axes = R.panels(len(results), 6.5, 4.8)
    styles = {"newton": "o-", "lbfgs": "s-", "fista": "^-", "numpy": "-"}
    for ax, r in zip(axes, results, strict=True):
        for solver in (*r["curves"], "numpy"):
            if points := curve(r, solver):
                s, g = np.array(points).T
                width = 2.0 if solver == "numpy" else 1.5
                kw = dict(label=LABELS[solver], markersize=4, linewidth=width)
                ax.plot(s, np.maximum(g, 1e-16), styles[solver], **kw)
        ax.axhline(TARGET_GAP, color="grey", linestyle="--", linewidth=1)
        ax.set(xscale="log", yscale="log", ylim=(5e-17, None), ylabel="(J - J*) / J*")
        ax.set_xlabel("seconds (whole fits for mtreg; compile excluded)")
        ax.set_title(r["problem"], fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Logistic loss, alpha = 1, l2 = 1: suboptimality against time", fontsize=11)
    return R.save(fig, path)


PROTOCOL = """\
- J of DESIGN.md section 1, logistic loss, alpha = l2 = 1, intercepts, on
  `make_multitask_classification(..., random_state=0)`; every contender judged by
  `mtreg.core.objective`; J* at `solver="newton", tol=1e-12` (checked below).
- mtreg: whole fits with `max_iter=k, tol=1e-15`, k = 1, 2, 3, 4, 6, 8, 11, ... (x1.4), each
  from scratch (median of {curve_repeats}); the first k within 1e-6 found by bisection.
- NumPy route: L-BFGS-B from zero on J, `ftol=gtol=0`, its curve from its callback, its data
  pre-encoded (mtreg's times include that), on one thread (faster so).
- Time to 1e-6: each stops at its first iterate within 1e-6; R = {repeats}, in a new random
  order every round; "one thread": `threadpool_limits(1)`. Profiles: one more run, cProfile.
"""


def sections(rows, mode, folder):
    """(protocol, results, details) of the report."""
    results = R.of(rows, "classifier")
    per = {
        k: ", ".join(f"{r['scenario']}: {r['cfg'][k]}" for r in results)
        for k in ("curve_repeats", "repeats")
    }
    protocol = PROTOCOL.format(**per) + R.TIMING
    figure = plot(results, folder / f"classifier{R.suffix(mode)}.png") if results else None
    parts = [per_problem(r) for r in results]
    milestones, correct, ladders, profiles = ([p[k] for p in parts] for k in range(4))
    defaults = [[r["problem"], f"auto → {f['solver']}" if s == "auto" else s,
                 R.fmt_seconds(f["time"]), f["n_iter"], f"{f['gap']:.1e}"]
                for r in results for s, f in r["defaults"].items()]  # fmt: skip
    text = [
        'Time to (J - J*)/J* <= 1e-6; the target is on solver="auto" (marked).\n\n'
        + results_table(results),
        "### Suboptimality against time",
        f"![suboptimality against time]({figure.name if figure else ''})\n\nFirst time at "
        "which each curve is at or below a level (for mtreg: the fastest whole fit on its "
        "ladder that gets there):",
        *milestones,
        "### What a default fit gives (tol=1e-6 on the relative optimality residual)",
        R.table("problem | solver | fit time | iterations | (J - J*)/J* reached", defaults),
        "### Correctness of what was timed",
        "\n".join(correct),
        "### Curves: the data",
        *ladders,
        "### Where the time goes (cProfile)",
        *profiles,
    ]
    intro = "Four fits per case in one fresh interpreter, cases in this order (later cases "
    intro += "reuse kernels compiled by earlier ones):\n\n"
    text += [R.cold_table(c, intro=intro) for c in R.of(rows, "cold")]
    return protocol, text[0], text[1:]
