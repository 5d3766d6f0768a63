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

MODES = {
    "full": dict(repeats=5, sm_repeats=2, T=100_000, n=1_000_000, big_repeats=3, subset=1_000,
                 lmer_max_d=30),
    "quick": dict(repeats=3, sm_repeats=1, T=10_000, n=100_000, big_repeats=2, subset=1_000,
                  lmer_max_d=3),
}  # fmt: skip
RATIO, SECONDS, BYTES, LLF_RTOL = 100.0, 10.0, 4 * 2**30, 1e-6
SCHOOL3 = [5, 7, 8]  # gender_0, vr_band_0, vr_band_1: the three slopes of tests/test_bayes.py
TITLE = "BayesianMultiTaskGraphRegressor as a mixed model: against statsmodels and lme4"
if "mixed" not in R.MODULES:  # report.py lists the suites rendering their own sections
    R.MODULES, R.TITLES["mixed"] = (*R.MODULES, "mixed"), TITLE


def mixed_model():
    """Random intercept + independent random slopes, REML: the complete graph, one alpha
    per feature, l2 = 0 (the mean of the slopes a fixed effect), coupled intercepts."""
    return BayesianMultiTaskGraphRegressor(
        None, feature_scales="per_feature", l2=0.0, couple_intercepts=True
    )


def mixedlm(X, y, t):
    """statsmodels' MixedLM of y on [1, X], one group per task: the random intercept in
    ``exog_re``, one independent variance component per column of X."""
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    groups = np.unique(t)
    rows = [np.flatnonzero(t == g) for g in groups]
    names = [f"x{j}" for j in range(X.shape[1])]
    mats = [[X[r][:, [j]] for r in rows] for j in range(X.shape[1])]
    vc = VCSpec(names, [[[v] for _ in groups] for v in names], mats)
    exog = np.column_stack([np.ones(len(y)), X])
    return MixedLM(y, exog, groups=t, exog_re=np.ones((len(y), 1)), exog_vc=vc)


def statsmodels_fit(X, y, t):
    """MixedLM(...).fit(reml=True), its default optimisers: (llf, converged, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mixedlm(X, y, t).fit(reml=True)
    return float(fit.llf), bool(fit.converged), list(dict.fromkeys(str(w.message) for w in caught))


LMER = """suppressMessages(library(lme4)); d <- read.csv(commandArgs(TRUE)[1]); d$g <- factor(d$g)
xs <- setdiff(names(d), c("y", "g"))
f <- reformulate(c(xs, "(1 | g)", sprintf("(0 + %s | g)", xs)), "y")
s <- system.time(fit <- lmer(f, d, REML = TRUE))[["elapsed"]]
cat(sprintf("%.17g", c(s, logLik(fit), isSingular(fit))), "\n")
cat(as.character(packageVersion("lme4")), "\n")
"""


def lmer(X, y, t):
    """lme4's lmer on the same model in Rscript, the data through a CSV: dict(seconds (of
    lmer alone, R's system.time), llf (its REML log-likelihood), singular, version), or
    dict(skipped=why)."""
    if shutil.which("Rscript") is None:
        return dict(skipped="Rscript not found (`apt-get install r-cran-lme4`)")
    with tempfile.TemporaryDirectory() as tmp:
        header = ",".join(["y", "g", *(f"x{j}" for j in range(X.shape[1]))])
        np.savetxt(f"{tmp}/d.csv", np.column_stack([y, t, X]), "%.17g", ",", header=header,
                   comments="")  # fmt: skip
        with open(f"{tmp}/fit.R", "w") as f:
            f.write(LMER)
        cmd = ["Rscript", f"{tmp}/fit.R", f"{tmp}/d.csv"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return dict(skipped="lme4 failed: " + (out.stderr.strip().splitlines() or ["?"])[-1])
    numbers, version = out.stdout.strip().splitlines()[-2:]
    seconds, llf, singular = map(float, numbers.split())
    return dict(seconds=seconds, llf=llf, singular=bool(singular), version=version.strip())


def reference_coded(X):
    """The columns of X not in the span of the intercept and the columns before (one level
    of each one-hot group dropped): the fixed effects of a mixed model must be identified."""
    keep, Z = [], np.ones((len(X), 1))
    for j in range(X.shape[1]):
        if np.linalg.matrix_rank(np.column_stack([Z, X[:, j]])) > Z.shape[1]:
            keep.append(j)
            Z = np.column_stack([Z, X[:, j]])
    return keep


def school(home):
    """{problem: (X, y, t)} of the school data, or {} when it is missing."""
    bunch, _ = D.load("school", home) if home else (None, None)
    if bunch is None:
        return {}
    X, y, t = bunch.data, bunch.target, bunch.task_ids
    return {"school, 3 slopes": (X[:, SCHOOL3], y, t),
            "school, all features": (X[:, reference_coded(X)], y, t)}  # fmt: skip


def synthetic(T, n, seed=0):
    """Rows drawn from the model: every task at least one row, the rest uniformly; d = 3
    slopes with spreads 0.5, 0.3, 0.1 around (1, -0.5, 0.25), intercepts of spread 0.5."""
    rng = np.random.default_rng(seed)
    t = np.concatenate([np.arange(T), rng.integers(0, T, n - T)])
    X = rng.normal(size=(n, 3))
    W = np.array([1.0, -0.5, 0.25]) + rng.normal(size=(T, 3)) * [0.5, 0.3, 0.1]
    b = 0.5 * rng.normal(size=T)
    return X, np.einsum("ij,ij->i", X, W[t]) + b[t] + rng.normal(size=n), t


def compare(problem, X, y, t, cfg, repeats, sm_repeats, target=None):
    """A "mixed" row: mtreg's fit (one untimed warm-up, then ``repeats``) interleaved with
    the first ``sm_repeats`` statsmodels fits; lmer once when d <= lmer_max_d."""
    est = mixed_model().fit(X, y, task_ids=t)
    mine, theirs, sm = [], [], None
    for k in range(repeats):
        mine.append(timed(lambda: mixed_model().fit(X, y, task_ids=t))[0])
        if k < sm_repeats:
            seconds, sm = timed(lambda: statsmodels_fit(X, y, t))
            theirs.append(seconds)
    llf, converged, caught = sm
    d = X.shape[1]
    lme4 = lmer(X, y, t) if d <= cfg["lmer_max_d"] else dict(skipped=f"d > {cfg['lmer_max_d']}")
    size = dict(n=len(y), T=len(np.unique(t)), d=d)
    return dict(kind="mixed", suite="mixed", problem=problem, **size, mtreg_times=mine,
                sm_times=theirs, llf=est.log_marginal_likelihood_, sm_llf=llf,
                converged=converged, warnings=caught, n_iter=est.n_iter_, lme4=lme4, target=target)  # fmt: skip


def many_groups(cfg):
    """In a fresh interpreter: one untimed fit on the data of ``synthetic``, then the peak
    RSS mark reset and ``big_repeats`` timed fits; their seconds, the RSS before them and
    the peak (VmHWM) during them."""
    X, y, t = synthetic(cfg["T"], cfg["n"])
    mixed_model().fit(X, y, task_ids=t)
    reset_peak_rss()
    before = rss()
    times = [
        timed(lambda: mixed_model().fit(X, y, task_ids=t))[0] for _ in range(cfg["big_repeats"])
    ]
    return dict(times=times, rss_before=before, peak=rss("VmHWM"), data=X.nbytes + y.nbytes)


def run(mode, only=None, **_):
    cfg = MODES[mode]
    home, why_not = D.find_data_home()
    rows = [compare(p, *data, cfg, cfg["repeats"], cfg["sm_repeats"], RATIO)
            for p, data in school(home).items()]  # fmt: skip
    if not rows:
        rows.append(dict(kind="note", suite="mixed", text=f"school skipped: {why_not}"))
    big = child(many_groups, cfg)
    rows.append(dict(kind="many", suite="mixed", T=cfg["T"], n=cfg["n"], **big))
    X, y, t = synthetic(cfg["T"], cfg["n"])
    keep = t < cfg["subset"]
    problem = f"many groups: the first {cfg['subset']:,} of the {cfg['T']:,} tasks"
    rows.append(compare(problem, X[keep], y[keep], t[keep], cfg, cfg["repeats"], 1))
    return [dict(kind="config", suite="mixed", mode=mode, **cfg), *rows]


# --- report ---------------------------------------------------------------------------------


def rel(ours, theirs):
    """(llf mtreg - llf other) / |llf mtreg|: > 0 where mtreg found the higher likelihood."""
    return (ours - theirs) / abs(ours)


def spread(times):
    return R.fmt_seconds(times[0]) if len(times) == 1 else R.fmt_spread(times)


def results_table(rows):
    out = []
    for r in rows:
        ratio, diff = (
            np.median(r["sm_times"]) / np.median(r["mtreg_times"]),
            rel(r["llf"], r["sm_llf"]),
        )
        ok = R.met(ratio, r["target"]) and diff >= -LLF_RTOL if r["target"] else None
        sm_llf = f"{r['sm_llf']:.4f} ({'' if r['converged'] else '**not** '}converged)"
        target = f">= {r['target']:g}x at llf within {LLF_RTOL:g}" if r["target"] else "reported"
        out.append([r["problem"], f"{r['n']:,}", f"{r['T']:,}", r["d"], spread(r["mtreg_times"]),
                    spread(r["sm_times"]), f"{ratio:.0f}x", f"{r['llf']:.4f}", sm_llf,
                    f"{diff:.1e}", target, R.verdict(ok)])  # fmt: skip
    header = (
        "problem | n | T | d | mtreg fit: median (min–max) | statsmodels MixedLM fit | ratio "
        "statsmodels / mtreg (medians) | mtreg llf (REML) | statsmodels llf | (llf mtreg - llf "
        "statsmodels) / abs | target | met"
    )
    return R.table(header, out)


def lme4_table(rows):
    out = []
    for r in rows:
        m = r["lme4"]
        if "skipped" in m:
            out.append([r["problem"], "–", "–", "–", "–", f"skipped: {m['skipped']}"])
            continue
        ratio = m["seconds"] / np.median(r["mtreg_times"])
        note = f"lme4 {m['version']}" + ("; singular (boundary) fit" if m["singular"] else "")
        out.append([r["problem"], R.fmt_seconds(m["seconds"]), f"{ratio:.0f}x",
                    f"{m['llf']:.4f}", f"{rel(r['llf'], m['llf']):.1e}", note])  # fmt: skip
    header = (
        "problem | lmer (R's system.time) | ratio lmer / mtreg | lmer llf (REML) | (llf mtreg - "
        "llf lmer) / abs | note"
    )
    return "### lme4 (optional contender)\n\n" + R.table(header, out)


def many_table(m):
    median = float(np.median(m["times"]))
    ok = R.met(median, SECONDS, at_most=True) and R.met(m["peak"], BYTES, at_most=True)
    body = [[f"{m['T']:,}", f"{m['n']:,}", 3, R.fmt_spread(m["times"]), R.fmt_bytes(m["peak"]),
             R.fmt_bytes(m["rss_before"]), R.fmt_bytes(m["data"]),
             f"<= {SECONDS:g} s, <= {R.fmt_bytes(BYTES)}", R.verdict(ok)]]  # fmt: skip
    header = (
        "T | n | d | fit: median (min–max) | peak RSS of the process (VmHWM) | RSS before the fits "
        "| X and y | targets | met"
    )
    return "### Many groups: the whole problem in a fresh process\n\n" + R.table(header, body)


def sections(rows, mode, folder):
    cfg, compared = R.of(rows, "config")[0], R.of(rows, "mixed")
    notes = [f"- {r['text']}" for r in R.of(rows, "note")]
    for r in compared:
        said = "; ".join(w.splitlines()[0][:120] for w in r["warnings"]) or "none"
        notes.append(f"- {r['problem']}: mtreg {r['n_iter']} L-BFGS-B iterations; statsmodels "
                     f"converged: {r['converged']}; its warnings: {said}")  # fmt: skip
    protocol = f"""\
- Model: y = x . (beta + u_t) + b + v_t + e, a random intercept v_t and independent random
  slopes u_t per task, REML. mtreg: `BayesianMultiTaskGraphRegressor(None,
  feature_scales="per_feature", l2=0.0, couple_intercepts=True)` (the complete graph); its
  `log_marginal_likelihood_` is statsmodels' REML `llf` (tests/test_bayes.py). statsmodels:
  `MixedLM(y, [1, X], groups=t, exog_re=1, exog_vc=VCSpec(one component per column))`,
  `.fit(reml=True)` with its default optimisers and retries; lme4: `lmer(y ~ x + (1 | g) +
  (0 + x1 | g) + ..., REML = TRUE)` in Rscript (data through a CSV, `system.time` of lmer
  alone), skipped with the reason when Rscript or lme4 is missing.
- School (`mtreg.datasets.load_school`): 3 slopes on columns {SCHOOL3} (gender_0, vr_band_0,
  vr_band_1), and all features: the 27 columns reference-coded (one level of each one-hot
  group dropped, the fixed effects must be identified), 22 left.
- Timing: one untimed mtreg fit (JIT compilation), then {cfg["repeats"]} mtreg fits, the first
  {cfg["sm_repeats"]} interleaved with a statsmodels fit (slow: so few); the ratio is of the
  medians. lmer once, only for d <= {cfg["lmer_max_d"]} (lmer on all school features takes
  minutes). "Equal log-likelihood": |relative difference| <= {LLF_RTOL:g}, or statsmodels
  stopped below mtreg's llf (positive difference; then "not converged" says why).
- Many groups: `synthetic` draws T = {cfg["T"]:,} tasks, n = {cfg["n"]:,} rows, d = 3 from the
  model{" (quick mode: the full sizes are T = 100,000, n = 1,000,000)" if mode == "quick" else ""}.
  Fit in a fresh interpreter (`objective.child`): one untimed fit, the peak-RSS mark reset, then
  {cfg["big_repeats"]} timed fits; memory is the process's VmHWM (its `ru_maxrss`: interpreter,
  data and fit). statsmodels, mtreg (and lmer) on the first {cfg["subset"]:,} tasks of the
  same data, timed as school.
- Wall clock on a shared machine: the ratios are indicative; BLAS: the libraries' threads.
"""
    results = results_table(compared) + "\n\n" + "\n".join(notes)
    details = [lme4_table(compared), *map(many_table, R.of(rows, "many"))]
    return protocol, results, details
