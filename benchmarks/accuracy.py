"""The accuracy suite on real data (a. school, b. landmine, c. computer survey, d. Parkinson's,
e. school learning curves); a scenario without its data files is skipped with the reason."""

import sys
from collections import Counter

import numpy as np
from threadpoolctl import threadpool_limits

from . import contenders as C
from . import datasets as D
from . import report as R
from .objective import progress

_SAME = dict(landmine_frac=0.2, parkinsons_frac=0.25, parkinsons_horizon=0.25,
             curve_sizes=(5, 10, 20, 40, None))  # fmt: skip
MODES = {  # Parkinson's origins: from the last 25 % held out back by 0.1, >= 45 % to train
    "full": dict(_SAME, school_splits=10, kernel_splits=10, landmine_reps=10, parkinsons_reps=10,
                 parkinsons_origins=(0.75, 0.65, 0.55, 0.45), curve_splits=10, quick_specs=False,
                 blas=0),
    "quick": dict(_SAME, school_splits=2, kernel_splits=1, landmine_reps=2, parkinsons_reps=2,
                  parkinsons_origins=(0.75, 0.65), curve_splits=2, quick_specs=True, blas=1),
}  # fmt: skip
SCHOOL_TARGET, BAYES_SURVEY = 0.38, 1.74  # default graph's pooled EV; the Bayes' RMSE
VOICE = slice(3, None)  # Parkinson's: the 16 voice measures (not age, sex, test_time)
REFERENCES = [("Evgeniou & Pontil (2004), published", "≈ 34.3"),
              ("Bakker & Heskes (2003), published", "29.5 ± 0.4")]  # fmt: skip
METRICS = dict(ev_pooled="explained variance, pooled (%)", auc="mean AUC over fields (%)",
               ev_tasks="explained variance, per task (%)", rmse="RMSE")  # fmt: skip


def scores(metrics, y, fitted, X, t):
    """The metrics of a fitted model on the test rows (explained variance pooled: 1 - SSE/SST
    over all rows; per task: 1 - mean_t MSE_t / mean_t Var_t)."""
    if "auc" in metrics:
        return dict(auc=mean_task_auc(y, fitted.decision_function(X), t))
    pred, tasks = fitted.predict(X), np.unique(t)
    mse = np.mean([np.mean((y[t == k] - pred[t == k]) ** 2) for k in tasks])
    out = dict(ev_pooled=1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2),
               ev_tasks=1 - mse / np.mean([np.var(y[t == k]) for k in tasks]),
               rmse=np.sqrt(np.mean((y - pred) ** 2)))  # fmt: skip
    return {m: float(out[m]) for m in metrics}


def mean_task_auc(y, scores, task_ids):
    """ROC AUC per task, averaged over the tasks showing both classes (infinite scores clipped)."""
    from sklearn.metrics import roc_auc_score

    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), posinf=1e300, neginf=-1e300)
    both = [k for k in np.unique(task_ids) if np.unique(y[task_ids == k]).size == 2]
    return float(np.mean([roc_auc_score(y[task_ids == k], scores[task_ids == k]) for k in both]))


def fit_rows(scenario, specs, metrics, splits, X, y, t, *, scoring=None, size=None, skip=None):
    """A "score" row per (model, split): the test metrics, what the search chose, its cost;
    a "skipped" row per model whose package is missing (estimator None)."""
    rows = [dict(kind="skipped", suite="accuracy", scenario=scenario, model=s.name, note=s.note)
            for s in specs if s.estimator is None]  # fmt: skip
    specs = [s for s in specs if s.estimator is not None]
    for k, (train, test) in enumerate(splits):
        for spec in (s for s in specs if not (skip and skip(s, k))):
            fitted, info = C.fit_spec(spec, X[train], y[train], scoring=scoring, seed=k)
            got = scores(metrics, y[test], fitted, X[test], t[test])
            row = dict(kind="score", suite="accuracy", scenario=scenario, model=spec.name, split=k)
            rows.append(row | dict(model_kind=spec.kind, note=spec.note, reduced=spec.reduced,
                                   size=size, **got, **info))  # fmt: skip
    return rows


def at_most(rows, task_ids, m, rng):
    """At most m random ``rows`` of every task (all of them when m is None)."""
    keep = [rng.permutation(np.flatnonzero(task_ids == t))[:m] for t in np.unique(task_ids)]
    return rows if m is None else rows[np.sort(np.concatenate(keep))]


NAMES = dict(a="school", b="landmine", c="computer_survey", d="parkinsons",
             d_interp="parkinsons", e="school")  # fmt: skip
EV = ("ev_pooled", "ev_tasks")


def scenario(letter, cfg, home):
    """The rows of one scenario: a "data" row (sizes, or why it was skipped) and its scores."""
    bunch, reason = D.load(NAMES[letter], home)
    if bunch is None:
        return [dict(kind="data", suite="accuracy", scenario=letter, skipped=reason)]
    X0, y, t = bunch.data, bunch.target, bunch.task_ids
    X, d, info = np.column_stack([X0, t]).astype(np.float64), X0.shape[1], {}
    thin = C.quick_specs if cfg["quick_specs"] else (lambda s: s)
    seeds = lambda n: (np.random.default_rng(r) for r in range(n))  # noqa: E731
    skip = lambda spec, k: spec.kind == "kernel" and k >= cfg["kernel_splits"]  # noqa: E731
    if letter == "a":
        splits = bunch.splits[: cfg["school_splits"]]
        specs, shown = thin(C.school_specs(d)), progress(splits, "a: school")
        rows = fit_rows("a", specs, EV, shown, X, y, t, skip=skip)
    elif letter == "b":
        cells = 2 * np.unique(t, return_inverse=True)[1] + y.astype(int)  # (field, class)
        splits = [D.split(cells, cfg["landmine_frac"], r, 1) for r in seeds(cfg["landmine_reps"])]
        specs, shown = thin(C.landmine_specs(d, bunch.task_groups)), progress(splits, "b: landmine")
        auc = lambda est, X, y: mean_task_auc(y, est.decision_function(X), X[:, C.TASK])  # noqa: E731
        rows = fit_rows("b", specs, ("auc",), shown, X, y, t, scoring=auc)
        pos = np.bincount(t[splits[-1][0]], weights=y[splits[-1][0]]).astype(int)
        info["pos_range"] = (int(pos.min()), int(pos.max()))
    elif letter == "c":
        splits, specs = bunch.splits, thin(C.survey_specs(d, bunch.task_features))
        rows = fit_rows("c", specs, ("rmse",), splits, X, y, t)
        info["n_test"] = len(splits[0][1])
    elif letter == "d":  # the voice measures; each patient's later recordings held out
        X, d = np.column_stack([X0[:, VOICE], t]), X0[:, VOICE].shape[1]
        origins, horizon = cfg["parkinsons_origins"], cfg["parkinsons_horizon"]
        splits = D.rolling_later(t, X0[:, 2], origins, horizon)
        specs, shown = thin(C.parkinsons_specs(d)), progress(splits, "d: later recordings")
        rows = fit_rows("d", specs, ("ev_pooled", "rmse"), shown, X, y, t, skip=skip)
        info["n_test"] = [len(test) for _, test in splits]
    elif letter == "d_interp":  # every feature (test_time too), random split per patient
        splits = [D.split(t, cfg["parkinsons_frac"], r) for r in seeds(cfg["parkinsons_reps"])]
        specs, shown = thin(C.parkinsons_specs(d)), progress(splits, "d: interpolation")
        rows = fit_rows(letter, specs, EV, shown, X, y, t)
    else:
        splits, rows, info["rows_per_task"] = bunch.splits[: cfg["curve_splits"]], [], {}
        specs = C.regression_baselines(d, 5, "schools")[:2]  # independent, pooled
        specs = thin([*specs, C.mean_regularised(d, 5), C.mean_regularised(d, 5, True)])
        for m in progress(cfg["curve_sizes"], "e: learning curves"):
            subs = [(at_most(tr, t[tr], m, np.random.default_rng(k)), te)
                    for k, (tr, te) in enumerate(splits)]  # fmt: skip
            info["rows_per_task"][str(m)] = [len(s) / len(np.unique(t)) for s, _ in subs]
            rows += fit_rows("e", specs, EV, subs, X, y, t, size=m)
    meta = dict(kind="data", suite="accuracy", scenario=letter, n=len(y), d=d, T=len(np.unique(t)))
    return [meta | dict(n_train=[len(tr) for tr, _ in splits], n_splits=len(splits), **info), *rows]


def run(mode, only="abcde", blas_threads=None, **_):
    """The rows of every scenario; [] (with the reason on stderr) without a data folder. Quick
    mode: BLAS on one thread unless ``blas_threads`` (2 OpenBLAS x 2 threads on 2 cores: 2-3x
    slower kernel models)."""

    home, why_not = D.find_data_home()
    if home is None:
        print(f"benchmarks: real-data suite skipped: {why_not}", file=sys.stderr)
        return []
    blas = MODES[mode]["blas"] if blas_threads is None else blas_threads
    cfg = dict(MODES[mode], blas=blas, home=str(home))
    with threadpool_limits(blas or None):
        rows = [row for s in NAMES if s[0] in only for row in scenario(s, cfg, home)]
    return [dict(kind="config", suite="accuracy", **cfg), *rows]


# --- report ---------------------------------------------------------------------------------


def pm(values, scale=100.0, digits=1):
    v = np.asarray(values, dtype=np.float64) * scale
    spread = f" ± {v.std(ddof=1):.{digits}f}" if v.size > 1 else ""
    return f"{v.mean():.{digits}f}{spread}"


def models(rows):
    """{model name: its score rows}, in the order of the specs."""
    names = dict.fromkeys(r["model"] for r in rows)
    return {n: [r for r in rows if r["model"] == n] for n in names}


def describe_choices(choices):
    """The most frequent selected hyper-parameters, e.g. 'alpha=100, l2=0.1 (7/10)'."""
    short = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    keys = [", ".join(f"{k}={short(v)}" for k, v in sorted(c.items())) for c in choices]
    if not (keys := [k for k in keys if k]):
        return "none to choose"
    ((top, count),) = Counter(keys).most_common(1)
    return top if count == len(keys) else f"{top} ({count}/{len(keys)})"


def detail_table(rows, quick):
    header = ["model", "how", *["cut by the quick protocol"] * quick, "selected (most frequent)",
              "fit + search per split (median)", "convergence warnings"]  # fmt: skip
    body = [[name, rs[0]["note"], *[rs[0]["reduced"] or "none (mtreg *CV: whole grid)"] * quick,
             describe_choices([r["chosen"] for r in rs]),
             R.fmt_seconds(float(np.median([r["seconds"] for r in rs]))),
             sum(r["warnings"] for r in rs)] for name, rs in models(rows).items()]  # fmt: skip
    return R.table(header, body)


def targets_table(by):
    rows, ok = [], lambda value, goal: R.verdict(R.met(np.mean(value), goal))  # noqa: E731
    mean = {s: {n: np.mean([r[m] for r in rs]) for n, rs in models(by[s]).items()}
            for s, m in PAIRED.items() if s in by}  # fmt: skip
    mtreg = {r["model"] for rs in by.values() for r in rs if r["model_kind"] != "baseline"}
    if school := mean.get("a"):
        mt = {n: v for n, v in school.items() if n in mtreg}
        name, default = max(mt, key=mt.get), "mean-regularised MTL (default graph)"
        shown = f"{mt[name] * 100:.1f} % ({name})"
        rows.append(["School: best mtreg model, pooled EV", "≥ 38 %", shown, ok(mt[name], 0.38)])
        if values := [r["ev_pooled"] for r in by["a"] if r["model"] == default]:
            what = f"School: {default}, pooled EV (chosen beforehand)"
            rows.append([what, "≥ 38 %", f"{pm(values)} %", ok(values, SCHOOL_TARGET)])
    if mines := by.get("b"):
        ms = list(models(mines).items())
        base = np.array([r["auc"] for r in ms[0][1]])
        for name, rs in (m for m in ms[2:] if m[0] in mtreg):
            g = np.array([r["auc"] for r in rs]) - base
            what = f"Landmine: {name}, AUC gain over independent logistic"
            rows.append([what, "≥ 1.5 points", pm(g, 100, 2) + " points", ok(g, 0.015)])
    bayes = {k: [r[m] for r in by.get(k, ()) if r["model"] == C.BAYES] for k, m in PAIRED.items()}
    if v := bayes["a"]:
        rows.append([f"School: {C.BAYES}, pooled EV", "≥ 38.4 %", f"{pm(v)} %", ok(v, 0.384)])
    if v := bayes["c"]:
        met = R.verdict(R.met(np.mean(v), BAYES_SURVEY, at_most=True))
        rows.append([f"Computer survey: {C.BAYES}, RMSE", "≤ 1.74", pm(v, 1, 3), met])
    if v := bayes["d"]:
        rival = max((n for n in mean["d"] if n != C.BAYES), key=mean["d"].get)
        wanted = f"≥ every contender's mean (best: {rival}, {mean['d'][rival] * 100:.1f} %)"
        what = f"Parkinson's, voice, later recordings: {C.BAYES}, pooled EV"
        rows.append([what, wanted, f"{pm(v)} %", ok(v, mean["d"][rival])])
    if not rows:
        return "No target was measured (data sets skipped)."
    return R.table("target | wanted | measured (mean ± std over splits) | met", rows)


PAIRED = dict(a="ev_pooled", b="auc", c="rmse", d="ev_pooled", d_interp="ev_pooled")


def paired_table(rows, metric):
    """Each model minus the Bayes estimator (landmine: the default graph), split by split."""
    by = models(rows)
    ref = C.BAYES if C.BAYES in by else "mean-regularised (default graph)"
    if ref not in by:
        return ""
    at, sign, body = {r["split"]: r[metric] for r in by[ref]}, -1 if metric == "rmse" else 1, []
    for name, rs in by.items():
        diff = np.array([r[metric] - at[r["split"]] for r in rs if r["split"] in at])
        if name != ref and diff.size:
            shown = pm(diff, 1.0, 3) if metric == "rmse" else pm(diff)
            body.append([name, shown, f"{np.sum(sign * diff > 0)}/{diff.size}"])
    header = ["model", f"{METRICS[metric]}: model minus {ref}", "splits won"]
    return R.table(header, body)


def curve_table(rows, meta):
    names, body = list(models(rows)), []
    for m in dict.fromkeys(r["size"] for r in rows):
        at = [r for r in rows if r["size"] == m]
        cells = [" / ".join(pm([r[k] for r in at if r["model"] == n]) for k in EV) for n in names]
        size = "all (75 % split)" if m is None else m
        body.append([size, f"{np.mean(meta['rows_per_task'][str(m)]):.1f}", *cells])
    header = ["rows per school (at most)", "mean rows per school"]
    return R.table(header + [f"{n}: pooled / per-task EV (%)" for n in names], body)


def curve_plot(rows, meta, path):
    """Pooled and per-task explained variance against rows per school."""
    sizes, names = list(dict.fromkeys(r["size"] for r in rows)), list(models(rows))
    x = np.array([np.mean(meta["rows_per_task"][str(m)]) for m in sizes])
    fig, axes = R.panels(2, 5.5, 4.2, sharex=True)
    for ax, metric in zip(axes, EV, strict=True):
        for name in names:
            v = 100 * np.array([[r[metric] for r in rows if r["size"] == m and r["model"] == name]
                                for m in sizes])  # fmt: skip
            mean, std = v.mean(axis=1), v.std(axis=1)
            ax.plot(x, mean, marker="o", label=name)
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        ax.set(xscale="log", xlabel="training rows per school (mean)")
        ax.set_xticks(x, [f"{v:.0f}" for v in x])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    axes[0].set(ylabel="explained variance (%)", title="pooled: 1 - SSE/SST over the test set")
    axes[1].set_title("per task: 1 - mean_t MSE_t / mean_t Var_t")
    axes[0].legend(loc="lower right")
    fig.suptitle(f"School (139 tasks): test scores, mean ± std over {meta['n_splits']} splits")
    return R.save(fig, path)


# fmt: off
def protocol(cfg, meta):
    def searches(cfg, folds):
        few = f" in mtreg's *CV, {C.QUICK_MAX_FOLDS}-fold in grid searches"
        return f"Searches: {folds}-fold CV" + few * (quick and folds > C.QUICK_MAX_FOLDS)
    sizes = ", ".join("all" if m is None else str(m) for m in cfg["curve_sizes"])
    quick, mean = cfg["quick_specs"], lambda r: f"{np.mean(r['n_train']):,.0f}"  # noqa: E731
    lines, first = [], lambda n: "the first" if n == 1 else f"the first {n}"  # noqa: E731
    add, blas = lines.append, f"BLAS on {cfg['blas']} thread(s)" if cfg["blas"] else "BLAS: own"
    if quick:
        add(f"- **Quick protocol** (every model runs; full scores: `results/accuracy.md`): "
            f"school on {cfg['school_splits']} splits and Parkinson's on "
            f"{len(cfg['parkinsons_origins'])} origins (kernel models {cfg['kernel_splits']}), "
            f"landmine {cfg['landmine_reps']}, Parkinson's interpolation {cfg['parkinsons_reps']}, "
            f"curves "
            f"{cfg['curve_splits']} (m = {sizes}); grids over {C.QUICK_THIN_ABOVE} values thinned "
            f"to every other, at most {C.QUICK_MAX_FOLDS} folds, no refit of the school kernel "
            f"models. {blas}.")
    add(f"- Data: `{cfg['home']}` by the loaders of `mtreg.datasets`; features standardised in "
        "each pipeline, task label as last column; searches by `TaskStratifiedKFold` on the "
        "training part (choices under Details); kernel models fit y minus task means.")
    add("- Metrics: explained variance pooled (1 - SSE/SST) and per task (1 - mean_t MSE_t / "
        "mean_t Var_t); landmine: mean per-field ROC AUC; computer survey: RMSE. Paired "
        f"differences: each model minus {C.BAYES} (landmine: the default graph), split by split.")
    if r := meta.get("a"):
        few = f"; kernel models on {first(cfg['kernel_splits'])} only"
        few *= cfg["kernel_splits"] < cfg["school_splits"]
        add(f"- a. School: {r['n']:,} students, {r['T']} schools, d = {r['d']}; "
            f"{first(cfg['school_splits'])} of the 10 canonical 75/25 splits (~{mean(r)} training "
            f"rows){few}; kernel models searched by 3-fold CV on a third of each school's rows, "
            f"{'no refit' if quick else 'refit on all training rows'}.")
    if r := meta.get("b"):
        add(f"- b. Landmine: {r['n']:,} readings, {r['T']} fields, d = {r['d']}; "
            f"{cfg['landmine_reps']} random splits (seeds 0..{cfg['landmine_reps'] - 1}), "
            f"{cfg['landmine_frac']:.0%} of each field's mines and clutter for training (~"
            f"{mean(r)} rows, {r['pos_range'][0]}-{r['pos_range'][1]} mines per field). "
            f"{searches(cfg, 3)}, by mean per-field AUC.")
    if r := meta.get("c"):
        add(f"- c. Computer survey: {r['T']} respondents x 20 profiles, d = {r['d']}; profiles "
            f"1-16 train ({r['n_train'][0]:,} rows), 17-20 test ({r['n_test']:,}); all 190 "
            f"respondents kept (no published RMSE comparable). One split. {searches(cfg, 4)}.")
    if r := meta.get("d"):
        qs, span = cfg["parkinsons_origins"], lambda v: f"{min(v):,} to {max(v):,}"  # noqa: E731
        add(f"- d. Parkinson's, main protocol: {r['n']:,} recordings, {r['T']} patients; "
            f"motor_UPDRS from the {r['d']} voice measures only (the aim the data's description "
            f"states). Rolling origin, q = {', '.join(map(str, qs))}: each patient of n "
            f"recordings trains on those before its recording round(q n) in test_time order "
            f"(from 0) and is tested on its next {cfg['parkinsons_horizon']:.0%} (q = {qs[0]}: its "
            f"last {1 - qs[0]:.0%}); a session (recordings of one test_time, one motor_UPDRS) is "
            "never cut, so every test recording is later than the training ones of its patient. "
            f"{span(r['n_train'])} training and {span(r['n_test'])} test rows. Consecutive test "
            "windows overlap: ± is the spread over origins, not over independent samples. "
            f"{searches(cfg, 5)}.")
    if r := meta.get("d_interp"):
        add(f"- d. Parkinson's, interpolation in time: d = {r['d']} (age, sex, test_time, voice), "
            f"{cfg['parkinsons_reps']} random splits, {cfg['parkinsons_frac']:.0%} of each "
            f"patient's recordings for training (~{mean(r)} rows); motor_UPDRS is interpolated "
            "between visits, so test_time nearly gives it away. The protocol of published "
            "multi-task results (19 features, random splits: Zhang & Yang's survey); compare "
            "them with this table only.")
    if r := meta.get("e"):
        add(f"- e. Learning curves: the first {r['n_splits']} school splits, at most m training "
            f"rows per school (m = {sizes}), the same test part; s{searches(cfg, 5)[1:]}.")
    return "\n".join(lines)
# fmt: on


SECTIONS = [  # (scenario, title of its table, short name, metrics)
    ("a", "School (139 schools), mean ± std over splits", "School", EV),
    ("b", "Landmine (29 fields), mean ± std over splits", "Landmine", ("auc",)),
    ("c", "Computer survey (190 respondents, hold-out profiles 17-20)", "Computer survey",
     ("rmse",)),
    ("d", "Parkinson's (42 patients), voice measures, later recordings held out (main), "
     "mean ± std over forecast origins",
     "Parkinson's", ("ev_pooled", "rmse")),
    ("d_interp", "Parkinson's, interpolation in time (test_time as feature, random split), "
     "mean ± std over splits", "Parkinson's, interpolation", EV),
]  # fmt: skip


def sections(rows, mode, folder):
    cfg, data = R.of(rows, "config")[0], {r["scenario"]: r for r in R.of(rows, "data")}
    meta = {s: r for s, r in data.items() if "skipped" not in r}
    by = {s: [r for r in R.of(rows, "score") if r["scenario"] == s] for s in meta}
    results = [targets_table(by)]
    for s, title, _, metrics in SECTIONS:
        if "skipped" in data.get(s, {}):
            results.append(f"**{title}**: skipped ({data[s]['skipped']}).")
        elif s in by:
            fmt = lambda m, v: pm(v, 1.0, 3) if m == "rmse" else pm(v)  # noqa: E731
            body = [[n, *(fmt(m, [r[m] for r in rs]) for m in metrics), len(rs)]
                    for n, rs in models(by[s]).items()]  # fmt: skip
            refs = REFERENCES if s == "a" else ()
            body += [[f"*{n}*", value, *[""] * (len(metrics) - 1), "10"] for n, value in refs]
            header = ["model"] + [METRICS[m] for m in metrics] + ["splits"]
            results += [f"**{title}**", R.table(header, body), paired_table(by[s], PAIRED[s])]
            gone = [f"{r['model']} ({r['note']})" for r in R.of(rows, "skipped", scenario=s)]
            results += ["Skipped: " + "; ".join(gone) + "."] * bool(gone)
    if "e" in by:
        what = f"(pooled / per-task explained variance, mean ± std over {meta['e']['n_splits']}"
        results += [f"**School learning curves** {what} splits)", curve_table(by["e"], meta["e"])]
    details = ["## Details: selected hyper-parameters, cost"]
    for s, _, short, _ in SECTIONS:
        if s in by:
            details += [f"**{short}**", detail_table(by[s], cfg["quick_specs"])]
    if "e" in by:
        plot = curve_plot(by["e"], meta["e"], folder / f"school_learning_curve{R.suffix(mode)}.png")
        details += ["## Plot", f"![school learning curve]({plot.name})"]
    return protocol(cfg, meta), "\n\n".join(results), details
