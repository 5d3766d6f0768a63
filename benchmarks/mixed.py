"""The mixed suite: BayesianMultiTaskGraphRegressor as the linear mixed model with a random
intercept and independent random slopes (REML), against statsmodels' MixedLM and, when R
and lme4 are installed, lme4's lmer (issue 14, section 3)."""

import shutil
import subprocess
import tempfile
import warnings

import numpy as np

from mtreg import BayesianMultiTaskGraphRegressor

from . import datasets as D
from . import report as R
from .objective import child, reset_peak_rss, rss, timed

FULL = dict(repeats=5, sm_repeats=2, T=10**5, n=10**6, big_repeats=3, subset=1000, lmer_max_d=30)
QUICK = dict(FULL, repeats=3, sm_repeats=1, T=10**4, n=10**5, big_repeats=2, lmer_max_d=3)
MODES = dict(full=FULL, quick=QUICK)
RATIO, SECONDS, BYTES, LLF_RTOL = 100.0, 10.0, 4 * 2**30, 1e-6
SCHOOL3 = [5, 7, 8]  # gender_0, vr_band_0, vr_band_1: the three slopes of tests/test_bayes.py


def mixed_model():
    """Random intercept + independent random slopes (REML): complete graph, one alpha per
    feature, l2 = 0 (the mean slopes fixed effects), coupled intercepts."""
    kw = dict(feature_scales="per_feature", l2=0.0, couple_intercepts=True)
    return BayesianMultiTaskGraphRegressor(None, **kw)


def statsmodels_fit(X, y, t):
    """MixedLM of y on [1, X], groups t, a random intercept and a variance component per
    column; ``fit(reml=True)``, its default optimisers: (llf, converged, [warnings])."""
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    groups, names = np.unique(t), [f"x{j}" for j in range(X.shape[1])]
    rows = [np.flatnonzero(t == g) for g in groups]
    mats = [[X[r][:, [j]] for r in rows] for j in range(X.shape[1])]
    vc = VCSpec(names, [[[v] for _ in groups] for v in names], mats)
    ones, exog = np.ones((len(y), 1)), np.column_stack([np.ones(len(y)), X])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = MixedLM(y, exog, groups=t, exog_re=ones, exog_vc=vc).fit(reml=True)
    return float(fit.llf), bool(fit.converged), list(dict.fromkeys(str(w.message) for w in caught))


LMER = """suppressMessages(library(lme4)); d <- read.csv(commandArgs(TRUE)[1]); d$g <- factor(d$g)
xs <- setdiff(names(d), c("y", "g"))
f <- reformulate(c(xs, "(1 | g)", sprintf("(0 + %s | g)", xs)), "y")
s <- system.time(fit <- lmer(f, d, REML = TRUE))[["elapsed"]]
cat(sprintf("%.17g", c(s, logLik(fit), isSingular(fit))), format(packageVersion("lme4")), "\n")
"""


def lmer(X, y, t):
    """lme4's lmer on the same model in Rscript, the data through a CSV: dict(seconds of
    lmer alone (R's system.time), llf (REML), singular, version) or dict(skipped=why)."""
    if shutil.which("Rscript") is None:
        return dict(skipped="Rscript not found (`apt-get install r-cran-lme4`)")
    with tempfile.TemporaryDirectory() as tmp:
        header = ",".join(["y", "g", *(f"x{j}" for j in range(X.shape[1]))])
        np.savetxt(f"{tmp}/d.csv", np.column_stack([y, t, X]), "%.17g", ",", header=header,
                   comments="")  # fmt: skip
        cmd = ["Rscript", "-e", LMER, f"{tmp}/d.csv"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return dict(skipped="lme4 failed: " + (out.stderr.strip().splitlines() or ["?"])[-1])
    *numbers, version = out.stdout.split()  # singular: 0.0 or 1.0
    names = ("seconds", "llf", "singular")
    return dict(zip(names, map(float, numbers), strict=True), version=version)


def school(home):
    """{problem: (X, y, t)}: school's 3 slopes, and all its columns reference-coded (those in
    the span of the intercept and the columns before dropped: identified fixed effects)."""
    bunch = D.load("school", home)[0] if home else None
    if bunch is None:
        return {}
    X, keep, Z = bunch.data, [], np.ones((len(bunch.data), 1))
    for j in range(X.shape[1]):
        if np.linalg.matrix_rank(np.column_stack([Z, X[:, j]])) > Z.shape[1]:
            keep, Z = keep + [j], np.column_stack([Z, X[:, j]])
    y, t = bunch.target, bunch.task_ids
    return {"school, 3 slopes": (X[:, SCHOOL3], y, t), "school, all features": (X[:, keep], y, t)}


def synthetic(T, n, seed=0):
    """n rows drawn from the model, T tasks (each at least one row), d = 3 slopes."""
    rng = np.random.default_rng(seed)
    t = np.concatenate([np.arange(T), rng.integers(0, T, n - T)])
    X = rng.normal(size=(n, 3))
    W = np.array([1.0, -0.5, 0.25]) + rng.normal(size=(T, 3)) * [0.5, 0.3, 0.1]
    return X, np.einsum("ij,ij->i", X, W[t]) + 0.5 * rng.normal(size=T)[t] + rng.normal(size=n), t


def compare(problem, X, y, t, cfg, sm_repeats, target=None):
    """A "mixed" row: one untimed mtreg fit, then ``repeats`` timed ones, the first
    ``sm_repeats`` each followed by a statsmodels fit; lmer once (d <= lmer_max_d)."""
    fit = lambda: mixed_model().fit(X, y, task_ids=t)  # noqa: E731
    est, mine, theirs = fit(), [], []
    for k in range(cfg["repeats"]):
        mine.append(timed(fit)[0])
        if k < sm_repeats:
            seconds, (llf, converged, caught) = timed(lambda: statsmodels_fit(X, y, t))
            theirs.append(seconds)
    lme4 = lmer(X, y, t) if X.shape[1] <= cfg["lmer_max_d"] else dict(skipped="d > lmer_max_d")
    return dict(kind="mixed", suite="mixed", problem=problem, n=len(y), T=len(np.unique(t)),
                d=X.shape[1], mtreg_times=mine, sm_times=theirs, llf=est.log_marginal_likelihood_,
                sm_llf=llf, converged=converged, warnings=caught, n_iter=est.n_iter_, lme4=lme4,
                target=target)  # fmt: skip


def many_groups(cfg):
    """In a fresh interpreter: one untimed fit on ``synthetic``'s data, the peak-RSS mark
    reset, ``big_repeats`` timed fits; their seconds, the RSS before them, the peak."""
    X, y, t = synthetic(cfg["T"], cfg["n"])
    fit = lambda: mixed_model().fit(X, y, task_ids=t)  # noqa: E731
    fit(), reset_peak_rss()
    before, times = rss(), [timed(fit)[0] for _ in range(cfg["big_repeats"])]
    return dict(times=times, rss_before=before, peak=rss("VmHWM"), data=X.nbytes + y.nbytes)


def run(mode, only=None, **_):
    cfg, (home, why_not) = MODES[mode], D.find_data_home()
    rows = [compare(p, *data, cfg, cfg["sm_repeats"], RATIO) for p, data in school(home).items()]
    rows = rows or [dict(kind="note", suite="mixed", text=f"school skipped: {why_not}")]
    rows.append(dict(kind="many", suite="mixed", T=cfg["T"], n=cfg["n"], **child(many_groups, cfg)))
    X, y, t = synthetic(cfg["T"], cfg["n"])
    keep, problem = t < cfg["subset"], f"many groups: the first {cfg['subset']:,} tasks"
    rows.append(compare(problem, X[keep], y[keep], t[keep], cfg, 1))
    return [dict(kind="config", suite="mixed", mode=mode, **cfg), *rows]


def contenders(r):
    """The statsmodels and lmer rows of one problem: [cells] from "contender" on."""
    mine, m, rel = np.median(r["mtreg_times"]), r["lme4"], lambda v: (r["llf"] - v) / abs(r["llf"])
    ratio, diff = np.median(r["sm_times"]) / mine, rel(r["sm_llf"])
    ok = R.met(ratio, r["target"]) and diff >= -LLF_RTOL if r["target"] else None
    said = f"{r['sm_llf']:.4f} ({'' if r['converged'] else '**not** '}converged)"
    target = f">= {r['target']:g}x, llf within {LLF_RTOL:g}" if r["target"] else ""
    sm = ["statsmodels MixedLM", R.fmt_spread(r["sm_times"]), f"{ratio:.0f}x", said,
          f"{diff:.1e}", target, R.verdict(ok)]  # fmt: skip
    if "skipped" in m:
        return sm, ["lme4", m["skipped"], *"–––––"]
    llf = f"{m['llf']:.4f}" + (" (singular fit)" if m["singular"] else "")
    return sm, [f"lme4 {m['version']} lmer", R.fmt_seconds(m["seconds"]),
                f"{m['seconds'] / mine:.0f}x", llf, f"{rel(m['llf']):.1e}", "", ""]  # fmt: skip


def sections(rows, mode, folder):
    cfg, out, notes = R.of(rows, "config")[0], [], [f"- {r['text']}" for r in R.of(rows, "note")]
    for r in R.of(rows, "mixed"):
        size, fit = [f"{r['n']:,}", f"{r['T']:,}", r["d"]], R.fmt_spread(r["mtreg_times"])
        first, second = contenders(r)
        out += [[r["problem"], *size, fit, f"{r['llf']:.4f}", *first], [""] * 6 + second]
        said = "; ".join(w.splitlines()[0][:100] for w in r["warnings"]) or "none"
        notes.append(f"- {r['problem']}: mtreg {r['n_iter']} L-BFGS-B iterations; statsmodels' "
                     f"warnings: {said}")  # fmt: skip
    header = (
        "problem | n | T | d | mtreg fit: median (min–max) | mtreg llf (REML) | contender | its "
        "fit | ratio (its / mtreg median) | its llf | (llf mtreg - its llf) / abs | target | met"
    )
    m = R.of(rows, "many")[0]
    ok = R.met(np.median(m["times"]), SECONDS, True) and R.met(m["peak"], BYTES, True)
    many = [f"{m['T']:,}", f"{m['n']:,}", R.fmt_spread(m["times"]), R.fmt_bytes(m["peak"]),
            R.fmt_bytes(m["rss_before"]), f"<= {SECONDS:g} s, <= 4 GB", R.verdict(ok)]  # fmt: skip
    quick = " (quick mode; full: T = 100,000, n = 1,000,000)" if mode == "quick" else ""
    protocol = f"""\
- mtreg: `BayesianMultiTaskGraphRegressor(None, feature_scales="per_feature", l2=0.0,
  couple_intercepts=True)`, `log_marginal_likelihood_` = MixedLM's REML `llf`. statsmodels:
  `MixedLM(y, [1, X], groups=t, exog_re=1, exog_vc=VCSpec(one per column)).fit(reml=True)`
  (default optimisers). lme4, if installed: `lmer(y ~ x1 + ... + (1 | g) + (0 + x1 | g) +
  ..., REML = TRUE)` in Rscript, R's `system.time` of lmer alone, for d <= {cfg["lmer_max_d"]}.
- School (`mtreg.datasets`): slopes on columns {SCHOOL3} (gender_0, vr_band_0, vr_band_1),
  and on all 27 columns reference-coded (22 left: the fixed effects must be identified).
- Timing: one untimed mtreg fit (JIT), {cfg["repeats"]} timed, the first {cfg["sm_repeats"]} (many
  groups: 1) each followed by statsmodels'; ratios of medians. Equal llf: relative difference
  >= -{LLF_RTOL:g} (statsmodels stopping below mtreg's llf counts; its convergence is shown).
- Many groups{quick}: T = {cfg["T"]:,}, n = {cfg["n"]:,}, d = 3 drawn from the model, fit in a
  fresh interpreter: one untimed fit, the peak-RSS mark reset, {cfg["big_repeats"]} timed; memory:
  its VmHWM (`ru_maxrss`: interpreter, data, fit). Contenders on its first {cfg["subset"]:,} tasks.
"""
    title = "### Many groups: the whole problem in a fresh process\n\n"
    head = "T | n | fit: median (min–max) | peak RSS (VmHWM) | RSS before the fits | targets | met"
    results = R.table(header, out) + "\n\n" + "\n".join(notes)
    return protocol, results, [title + R.table(head, [many])]
