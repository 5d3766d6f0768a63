"""The peers suite: mtreg against the reference implementations of graph-regularised multi-task
learning, MALSAR's ``Least_SRMTL`` / ``Logistic_SRMTL`` (Octave) and RMTL's ``MTL(...,
Regularization="Graph")`` (R), on the same problems, parameters mapped exactly (issue 16)."""

import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np
from sklearn.preprocessing import StandardScaler

from . import datasets as D
from . import report as R
from .objective import ALPHA, L2, Problem, race

FULL = dict(repeats=11, peer_repeats=3, budget=300.0, logistic=True)
QUICK = dict(FULL, repeats=5, peer_repeats=1, budget=30.0)
MODES = dict(full=FULL, quick=QUICK)
AGREE = 1e-6  # max |W - W*| / max |W*| from which a peer's answer counts
HERE = pathlib.Path(__file__).resolve().parent
R_APT = "r-base-core r-cran-mass r-cran-psych r-cran-corpcor r-cran-doparallel r-cran-foreach"
PEERS = {  # program and driver, (variable, the file it must hold), stopping rule, tolerances
    "MALSAR": dict(cmd=["octave-cli", "--no-init-file", "--quiet", "peers_malsar.m"],
                   needs=("MALSAR_HOME", "MALSAR/functions/SRMTL/Least_SRMTL.m"),
                   rule="relative", tols=10.0 ** -np.arange(4, 15),
                   install="`apt-get install octave`; MALSAR_HOME: a checkout of "
                           "github.com/jiayuzhou/MALSAR"),
    "RMTL": dict(cmd=["Rscript", "peers_rmtl.R"], needs=("RMTL_LIB", "RMTL/DESCRIPTION"),
                 rule="absolute", tols=10.0 ** -np.arange(3, 13),
                 install=f"`apt-get install {R_APT}`; `R CMD INSTALL -l DIR` a checkout of "
                         "github.com/transbioZI/RMTL; RMTL_LIB: DIR"),
}  # fmt: skip


def standardised(p):
    """The problem on globally standardised columns (the peers' gradient steps need them)."""
    X = StandardScaler().fit_transform(p.X)
    return Problem(X, p.y, p.t, p.adjacency, loss=p.loss, default_graph=p.default_graph)


PROBLEMS = {  # name: (make, loss); the sizes of issue 16's table
    "kNN (3-NN), T = 20": (lambda: D.knn_tasks(20, 50, 10, n_neighbors=3), "squared"),
    "school-sized, standardised": (lambda: standardised(D.school_sized()), "squared"),
    "school-sized, raw features": (D.school_sized, "squared"),
    "kNN (10-NN), T = 500": (lambda: D.knn_tasks(500, 200, 50), "squared"),
    "logistic, 3-NN, T = 20": (lambda: D.synthetic(20, 50, 10, loss="logistic", n_neighbors=3),
                               "logistic"),
    "logistic, 10-NN, T = 500": (lambda: D.knn_classification(500, 200, 50), "logistic"),
}  # fmt: skip


def missing(name):
    """Why peer ``name`` cannot run, and how to install it; None when it can."""
    (program, *_), (variable, needed) = PEERS[name]["cmd"], PEERS[name]["needs"]
    there = pathlib.Path(os.environ.get(variable, "/nonexistent"), needed).is_file()
    why = f"{program} not found" if shutil.which(program) is None else None
    why = why or (None if there else f"{variable} names no folder with {needed}")
    return why and f"{name} skipped: {why} (install: {PEERS[name]['install']})"


class Peer:
    """One long-lived Octave or Rscript process running the driver of ``name``, or none
    (``why_not`` says why)."""

    def __init__(self, name):
        self.name, self.proc, self.why_not = name, None, missing(name)
        if not self.why_not:
            *program, driver = PEERS[name]["cmd"]
            self.log, pipe = tempfile.TemporaryFile("w+"), subprocess.PIPE
            self.proc = subprocess.Popen([*program, str(HERE / driver)], stdin=pipe, stdout=pipe,
                                         stderr=self.log, text=True)  # fmt: skip

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        if (answer := self.proc.stdout.readline().split())[:1] != ["ok"]:
            self.log.seek(0)
            raise RuntimeError(f"{self.name}: {line!r} gave {answer}; {self.log.read()[-2000:]}")
        return answer[1:]

    def close(self):
        if self.proc:
            self.proc.communicate("quit\n", timeout=60)
            self.log.close()


def mapped(p, name):
    """``p`` as peer ``name`` minimises it: (arrays X, y, counts, R, lam1, lam2). Rows
    grouped by task; R = G = L^(1/2). Squared loss: X, y centred per task (the free
    intercepts' minimiser); both peers halve the loss: lam = (alpha, l2) / 2; RMTL averages
    each task's, so its rows are scaled by sqrt(n_t). Logistic: both average it (equal n_t):
    / n_t."""
    order = np.argsort(p.t, kind="stable")
    t, X, y = p.t[order], p.X[order], p.signed_y[order]
    counts = np.bincount(t, minlength=p.T).astype(float)
    vals, vecs = np.linalg.eigh(p.graph.laplacian(dense=True))
    G, scale = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T, 2.0
    if p.loss == "squared":
        starts = np.cumsum(counts).astype(int) - counts.astype(int)
        X = X - (np.add.reduceat(X, starts) / counts[:, None])[t]
        y = y - (np.add.reduceat(y, starts) / counts)[t]
        if name == "RMTL":
            X, y = X * np.sqrt(counts)[t, None], y * np.sqrt(counts[t])
    else:
        assert np.all(counts == counts[0]), "the peers average each task's logistic loss"
        scale = counts[0]
    return dict(X=X, y=y, counts=counts, R=G), ALPHA / scale, L2 / scale


def load(p, peer, folder):
    """Write ``mapped(p, peer.name)`` to ``folder``, have the peer load it: (lam1, lam2)."""
    arrays, lam1, lam2 = mapped(p, peer.name)
    for name, a in arrays.items():
        np.ascontiguousarray(a, dtype=np.float64).tofile(folder / f"{name}.bin")
    peer.ask(f"load {folder} {p.n} {p.d} {p.T} {p.T}")
    return lam1, lam2


def intercepts(p, W, C):
    """The intercepts of W: the squared loss's minimiser given W, else the peer's own C."""
    if p.loss != "squared":
        return C
    residual = p.y - np.einsum("ij,ij->i", p.X, W[p.t])
    return np.bincount(p.t, residual, p.T) / np.bincount(p.t, minlength=p.T)


def chase(peer, p, W_star, J_star, cfg):
    """The peer from zero at ever tighter tolerances until max |W - W*| / max |W*| <= AGREE:
    its times there. Else a lower bound, its longest call (its iterates do not depend on the
    tolerance), when its tolerances or ``budget`` seconds of calls run out (each call capped
    at the pace of the one before). An untimed 20-iteration call sets the first pace."""
    with tempfile.TemporaryDirectory() as tmp:
        folder, tried, left = pathlib.Path(tmp), [], cfg["budget"]
        lam1, lam2 = load(p, peer, folder)

        def solve(tol, max_iter):
            line = f"solve {p.loss} {lam1:.17g} {lam2:.17g} {tol:.17g} {max_iter}"
            seconds, iters = map(float, peer.ask(line))
            W = np.fromfile(folder / "W.bin").reshape(p.T, p.d)
            return seconds, int(iters), W, np.fromfile(folder / "C.bin")

        seconds, iters, *_ = solve(0.0, 20)
        stopped = "its tightest tolerance"
        for tol in PEERS[peer.name]["tols"]:
            if left < seconds:  # the next call would run longer than the budget left
                stopped = "budget spent"
                break
            max_iter = max(20, int(left * iters / max(seconds, 1e-6)))
            seconds, iters, W, C = solve(tol, max_iter)
            dev = float(np.abs(W - W_star).max() / np.abs(W_star).max())
            gap = float((p.J(W, intercepts(p, W, C)) - J_star) / abs(J_star))
            tried.append(dict(tol=tol, seconds=seconds, iters=iters, dev=dev, gap=gap))
            if dev <= AGREE:
                more = [solve(tol, max_iter)[0] for _ in range(cfg["peer_repeats"] - 1)]
                return tried[-1] | dict(times=[seconds, *more], tried=tried)
            left -= seconds
        deepest = max(tried, key=lambda s: (s["iters"], s["seconds"]))
        return deepest | dict(times=[], stopped=stopped, tried=tried)


def compare(problem, p, peers, cfg):
    """mtreg's fits of ``p`` (its defaults), W* (tol 1e-13), and a "peer" row per peer."""
    fit = D.regressor if p.loss == "squared" else D.classifier
    mine = lambda: fit(p).fit(p.X, p.y, task_ids=p.t)  # noqa: E731
    times, est = race({"mtreg": mine}, cfg["repeats"], f"peers: {problem}")
    ref = fit(p, tol=1e-13).fit(p.X, p.y, task_ids=p.t)
    W_star, J_star = ref.coef_, p.J(ref.coef_, ref.intercept_)
    base = dict(kind="peer", suite="peers", problem=problem, n=p.n, T=p.T, d=p.d,
                edges=p.adjacency.nnz // 2, mtreg_times=times["mtreg"], solver=est["mtreg"].solver_,
                rel_grad=p.relative_gradient(W_star, ref.intercept_))  # fmt: skip
    return [base | dict(peer=q.name) | chase(q, p, W_star, J_star, cfg) for q in peers if q.proc]


def run(mode, only=None, budget=None, **_):
    cfg = dict(MODES[mode], **({"budget": budget} if budget else {}))
    peers, rows = [Peer(name) for name in PEERS], [dict(kind="config", suite="peers", **cfg)]
    rows += [dict(kind="note", suite="peers", text=q.why_not) for q in peers if q.why_not]
    try:
        for problem, (make, loss) in PROBLEMS.items():
            if any(q.proc for q in peers) and (loss == "squared" or cfg["logistic"]):
                rows += compare(problem, make(), peers, cfg)
    finally:
        for q in peers:
            q.close()
    return rows


def cells(r):
    """One results row: the peer's times (or "> " its longest call), where it stopped, the ratio."""
    mine, reached = np.median(r["mtreg_times"]), bool(r["times"])
    seconds, bound = (np.median(r["times"]), "") if reached else (r["seconds"], "> ")
    stop = f"{r['tol']:.0e} ({PEERS[r['peer']]['rule']})" if reached else f"none ({r['stopped']})"
    theirs = R.fmt_spread(r["times"]) if reached else bound + R.fmt_seconds(seconds)
    return [r["problem"], f"{r['n']:,}", r["T"], r["d"], r["edges"], R.fmt_spread(r["mtreg_times"]),
            r["peer"], theirs, stop, r["iters"], f"{r['dev']:.1e}", f"{r['gap']:.1e}",
            f"{bound}{seconds / mine:,.0f}x"]  # fmt: skip


def sections(rows, mode, folder):
    cfg, compared = R.of(rows, "config")[0], R.of(rows, "peer")
    tried = [[r["problem"], r["peer"], f"{s['tol']:.0e}", R.fmt_seconds(s["seconds"]),
              s["iters"], f"{s['dev']:.1e}", f"{s['gap']:.1e}"]
             for r in compared for s in r["tried"]]  # fmt: skip
    header = (
        "problem | n | T | d | edges | mtreg fit: median (min–max) | peer | its solver call | "
        "at tolerance | iterations | max abs(W - W*) / max abs(W*) | (J - J*) / J* | ratio "
        "(peer / mtreg median)"
    )
    notes = "".join(f"\n- {n['text']}" for n in R.of(rows, "note"))
    refs = dict.fromkeys(f"{r['problem']}: {r['solver']}, {r['rel_grad']:.0e}" for r in compared)
    protocol = f"""\
- J of `mtreg.core.objective`, alpha = l2 = 1, free intercepts. Mapping: G = L^(1/2) (G G^T =
  L) for both peers, L1 = 0. Squared loss: X, y centred per task (MALSAR has no intercept);
  MALSAR's 0.5 sum_t ||X_t w_t - y_t||^2: rho1 = alpha / 2, rho_L2 = l2 / 2; RMTL averages
  each task's 0.5 * loss: rows scaled by sqrt(n_t), Lam1 = alpha / 2, Lam2 = l2 / 2.
  Logistic (equal n_t; both average each task's loss, fit intercepts): / n_t in place of / 2.
  (RMTL's logistic line search leaves Lam2 ||W||^2 out of the objective it tests, a misplaced
  parenthesis in LR_Graph; its gradient has it, so its fixed point is still the minimiser.)
- Peers: one long-lived `octave-cli` and `Rscript` each (start-up and loading excluded), every
  call from zero, the solver call alone timed inside (tic/toc, system.time), tolerances
  tightened 10x at a time (MALSAR: relative change of its objective, from 1e-4; RMTL:
  absolute, from 1e-3) until max |W - W*| / max |W*| <= {AGREE:g}: the time at the first
  that does (median of {cfg["peer_repeats"]}), else "> its longest call" once its tolerances
  or {cfg["budget"]:g} s of calls are spent. W*: mtreg at tol 1e-13 (solver, relative
  gradient: {"; ".join(refs)}).
- mtreg: its defaults, {cfg["repeats"]} fits after an untimed one (`objective.race`), median.
  Ratio: the peer's median over mtreg's; wall clock, the libraries' own BLAS threads.
"""
    head = "problem | peer | tolerance | time | iterations | max abs(W - W*) / max abs(W*)"
    details = ["### Every tolerance tried\n\n" + R.table(head + " | (J - J*) / J*", tried)]
    results = (R.table(header, [cells(r) for r in compared]) + "\n" if compared else "") + notes
    return protocol, results, details if tried else []
