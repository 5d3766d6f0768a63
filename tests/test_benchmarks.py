"""Smoke test of the benchmark runner: tiny sizes, the tidy rows and the rendered reports."""

import json
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

run = pytest.importorskip("benchmarks.run")
report = pytest.importorskip("benchmarks.report")
D = pytest.importorskip("benchmarks.datasets")

TINY = {
    "regressor": dict(
        a=dict(repeats=2, budget=0.2), b=dict(T=60, repeats=2), c=dict(n=300, d=8, T=12, repeats=2),
        d=dict(n=200, features=(4,), rows=(5, 50), repeats=2), e=dict(repeats=2),
    ),
    "cv": dict(repeats=1, serial_repeats=1, loo_repeats=1, subset=(3, 6)),
    "speed": dict(
        repeats=2, slow_repeats=1, budget=0.2, curve_budget=0.2, slow_limit=0.05,
        cvxpy_limit=1.0, cvxpy_max_n=0, axes={"n": dict(values=[10, 20], T=8, d=4)},
    ),
}  # fmt: skip
# Every table header each suite's report must show, in order (a lost column fails the test).
HEADERS = {
    "regressor": [
        "problem | mtreg fit: median (min–max) | compared with | its time | ratio (mtreg / other, "
        "median of pairs) | target | met",
        "scenario | tracemalloc peak of one fit | size of X",
        "time | (J - J*) / J*",
        "problem | mtreg fit: median (min–max) | target | met",
        "function | own | cumulative | calls",
    ],
    "cv": [
        "problem | mtreg: median (min–max) | compared with | its time | speed-up (median of "
        "pairs) | target | met"
    ],
    "speed": [
        "problem | contender | its fit: median (min–max) | paired with | mtreg in the same pairs "
        "| ratio contender / mtreg (median of pairs) | peak traced memory | agreement with mtreg",
        "n | T | d | mtreg auto solver | mtreg (auto) | mtreg, solver='pcg' | T sklearn Ridge",
    ],
    "classifier": [
        "problem | mtreg solver | iterations to 1e-6 | mtreg: time to (J - J*)/J* <= 1e-6, median "
        "(min–max) | scipy L-BFGS-B on the NumPy J (iterations): same | speed-up (median of "
        "paired ratios) | target | met",
        "contender | (J - J*)/J* <= 0.01 | (J - J*)/J* <= 0.0001 | (J - J*)/J* <= 1e-06 | "
        "(J - J*)/J* <= 1e-08 | (J - J*)/J* <= 1e-10",
        "problem | solver | fit time | iterations | (J - J*)/J* reached",
        "own time | calls | function",
    ],
    "scale": [
        "c. T | n | d | nnz(A) | solver | fit: median (min–max) | peak RSS of the process (of it "
        "the fit) | rel. gradient of J | targets met",
        "function | own time | cumulative | calls",
    ],
    "threads": [
        "fit | largest call (flops) | quiet: BLAS threads | quiet: 1 thread | quiet: mtreg | "
        "quiet: mtreg / 1 thread | busy: BLAS threads | busy: 1 thread | busy: mtreg | "
        "busy: mtreg / 1 thread"
    ],
    "accuracy": [
        "target | wanted | measured (mean ± std over splits) | met",
        "model | mean AUC over fields (%) | splits",
        "model | how | cut by the quick protocol | selected (most frequent) | fit + search per "
        "split (median) | convergence warnings",
    ],
    "mixed": [
        "problem | n | T | d | mtreg fit: median (min–max) | mtreg llf (REML) | contender | its "
        "fit | ratio (its / mtreg median) | its llf | (llf mtreg - its llf) / abs | target | met",
        "T | n | fit: median (min–max) | peak RSS (VmHWM) | RSS before the fits | targets | met",
    ],
    "peers": [
        "problem | n | T | d | edges | mtreg fit: median (min–max) | peer | its solver call | "
        "at tolerance | iterations | max abs(W - W*) / max abs(W*) | (J - J*) / J* | ratio "
        "(peer / mtreg median)",
        "problem | peer | tolerance | time | iterations | max abs(W - W*) / max abs(W*) | "
        "(J - J*) / J*",
    ],
}
SECTIONS = ["## Machine", "## Protocol", "## Results"]


def tables(text):
    """[(header cells, [row cells])] of every Markdown table in ``text``."""
    out, lines = [], text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("| ") and lines[i + 1].startswith("|---") and lines[i - 1] == "":
            body = [row for row in lines[i + 2 :]]
            body = body[: next((k for k, r in enumerate(body) if not r.startswith("|")), len(body))]
            split = lambda r: r[2:-2].split(" | ")  # noqa: E731
            out.append((split(line), [split(r) for r in body]))
    return out


def check_report(suite, text, n_results=None):
    """Sections in order, the suite's headers in order, every row as wide as its header, and
    (``n_results``) the number of rows of the first table of the Results section."""
    at = [text.index(s) for s in SECTIONS]
    assert at == sorted(at), at
    found = [" | ".join(h) for h, _ in tables(text) if h != ["", ""]]
    expected = iter(HEADERS[suite])
    want = next(expected)
    for header in found:  # the expected headers appear in this order (others may be between)
        if header.startswith(want):
            want = next(expected, None)
            if want is None:
                break
    assert want is None, f"{suite}: no table with header {want!r} in {found}"
    for header, body in tables(text):
        assert body and all(len(row) == len(header) for row in body), (header, body)
    if n_results is not None:
        assert len(tables(text.split("## Results")[1])[0][1]) == n_results


@pytest.fixture
def tiny(monkeypatch):
    for suite, cfg in TINY.items():
        monkeypatch.setitem(run.MODES[suite], "quick", cfg)
    small = lambda: D.synthetic(12, (15, 30), 5, structure="complete", feature_scale="mixed")  # noqa: E731
    monkeypatch.setattr(run.D, "school_sized", small)
    monkeypatch.setitem(run.SPEED_PROBLEMS, "school-sized", small)
    monkeypatch.setitem(run.SPEED_PROBLEMS, "kNN graph", lambda: D.knn_tasks(10, 12, 4, 3))
    monkeypatch.setattr(run, "GRID", np.logspace(-1, 2, 4))


@pytest.mark.parametrize("suite", ["regressor", "cv", "speed"])
def test_runner_writes_tidy_rows_and_report(tiny, suite, tmp_path):
    rows = run.SUITES[suite]("quick", cold=False)
    compares = [r for r in rows if r["kind"] == "compare"]
    assert compares and all(r["suite"] == suite for r in rows)
    for r in compares:
        assert r["mtreg_times"] and all(t > 0 for t in r["mtreg_times"] + r["times"])
        if r["times"]:  # the ratio is the median of the pairs, recomputed here
            num, den = (r["mtreg_times"], r["times"])
            if not r.get("mtreg_over"):
                num, den = den, num
            assert r["ratio"] == pytest.approx(np.median(np.divide(num, den)))
    path, text = report.write(suite, rows, "quick", [("date", "today")], 1.0, tmp_path / "r.md")
    lines = path.with_suffix(".jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == [r["kind"] for r in rows]
    memory_b = [r for r in rows if r["kind"] == "memory" and r["scenario"] == "b"]
    check_report(suite, text, len(compares) + len(memory_b))


def test_cli_rejects_unknown_suite():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit):
        main(["--only", "nonsense"])


# --- the suites with their own module: classifier, scale, threads, accuracy ------------------


@pytest.fixture
def tiny_modules(monkeypatch):
    import benchmarks.accuracy as A
    import benchmarks.classifier as K
    import benchmarks.scale as S
    import benchmarks.threads as H

    cfg = dict(repeats=1, curve_repeats=1, budget=0.5, n_samples=40)
    monkeypatch.setitem(K.MODES, "quick", dict(a=cfg, b=cfg))
    monkeypatch.setitem(
        K.PROBLEMS, "a", lambda c: D.synthetic(8, 60, 3, structure="complete", loss="logistic")
    )  # noqa: E501
    monkeypatch.setitem(K.PROBLEMS, "b", lambda c: D.knn_classification(20, c["n_samples"], 4))
    small = dict(n_tasks=300, rows_per_task=5, n_features=3, n_neighbors=5, repeats=2, profile=True)
    monkeypatch.setitem(S.MODES, "quick", dict(c=small))
    monkeypatch.setattr(H, "SIZES", [("cholesky", 4, 3), ("woodbury", 10, 4)])
    monkeypatch.setitem(H.MODES, "quick", dict(budget=0.01, min_repeats=1))
    quick = dict(A.MODES["quick"], school_splits=1, kernel_splits=0, landmine_reps=1)
    monkeypatch.setitem(A.MODES, "quick", quick)
    return dict(classifier=K, scale=S, threads=H, accuracy=A)


@pytest.mark.parametrize("suite", ["classifier", "scale", "threads", "accuracy"])
def test_module_suites_write_tidy_rows_and_report(tiny_modules, suite, tmp_path, monkeypatch):
    module = tiny_modules[suite]
    only = {"classifier": "ab", "scale": "c", "threads": None, "accuracy": "b"}[suite]
    if suite == "accuracy":
        from benchmarks import datasets

        if datasets.find_data_home()[0] is None:
            pytest.skip("no data folder (MTREG_DATA)")
        # a tiny subset of one real data set: landmine, one split, three models
        import benchmarks.contenders as C

        specs = C.landmine_specs
        monkeypatch.setattr(C, "landmine_specs", lambda d, g: [specs(d, g)[i] for i in (0, 1, 2)])
    rows = module.run("quick", only=only, cold=False)
    assert rows and all(r["suite"] == suite for r in rows)
    path, text = report.write(suite, rows, "quick", [("date", "today")], 1.0, tmp_path / "r.md")
    lines = path.with_suffix(".jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == [r["kind"] for r in rows]
    n_results = {"scale": 1, "threads": len(getattr(module, "SIZES", ())), "accuracy": 1}
    n_results = n_results.get(suite)
    check_report(suite, text, n_results)
    if suite == "classifier":  # every mtreg solver reached 1e-6 and was timed against NumPy
        for r in (r for r in rows if r["kind"] == "classifier"):
            assert all(g <= 1e-6 for g in r["gaps"].values())
    if suite == "scale":
        (c,) = [r for r in rows if r["kind"] == "scale"]
        assert c["solver"] == "pcg" and c["rel_grad"] < 1e-8 and c["profile"]
    if suite == "accuracy":
        scores = [r["auc"] for r in rows if r["kind"] == "score"]
        assert len(scores) == 3 and all(0.5 < s <= 1.0 for s in scores)


def test_mixed_suite_writes_tidy_rows_and_report(monkeypatch, tmp_path):
    """The mixed suite on tiny sizes (school replaced by a draw from the model): mtreg and
    statsmodels at the same REML log-likelihood, lme4 where installed, and the report."""
    pytest.importorskip("statsmodels")
    import benchmarks.mixed as M

    small = dict(repeats=2, sm_repeats=1, T=30, n=600, big_repeats=1, subset=10, lmer_max_d=3)
    monkeypatch.setitem(M.MODES, "quick", small)
    monkeypatch.setattr(M, "school", lambda home: {"tiny": M.synthetic(8, 240, seed=1)})
    rows = M.run("quick")
    path, text = report.write("mixed", rows, "quick", [("date", "today")], 1.0, tmp_path / "r.md")
    check_report("mixed", text, 4)  # two problems, a statsmodels and an lme4 row each
    compared = [r for r in rows if r["kind"] == "mixed"]
    assert [r["n"] for r in compared] == [240, int(sum(M.synthetic(30, 600)[2] < 10))]
    for r in compared:  # statsmodels may stop below the maximum at a variance near 0
        assert isinstance(r["converged"], bool) and r["sm_llf"] <= r["llf"] + 1e-6 * abs(r["llf"])
        assert "skipped" in r["lme4"] or r["lme4"]["llf"] == pytest.approx(r["llf"], rel=1e-6)
    (many,) = [r for r in rows if r["kind"] == "many"]
    assert len(many["times"]) == 1 and many["peak"] >= many["rss_before"] > 0


@pytest.mark.parametrize("missing", ["program", "variable"])
def test_peers_suite_skips_absent_peers_with_a_note(missing, monkeypatch, tmp_path):
    """No Octave / Rscript, or no MALSAR_HOME / RMTL_LIB: each peer's note says how to
    install it, no problem is run, and the report is still written."""
    import benchmarks.peers as P

    found = None if missing == "program" else "/usr/bin/found"
    monkeypatch.setattr(P.shutil, "which", lambda program: found)
    for variable in ("MALSAR_HOME", "RMTL_LIB"):
        monkeypatch.setenv(variable, str(tmp_path))  # a folder without the peer in it
    rows = P.run("quick")
    assert [r["kind"] for r in rows] == ["config", "note", "note"]
    why = {"program": ["octave-cli not found", "Rscript not found"],
           "variable": ["MALSAR_HOME names no folder", "RMTL_LIB names no folder"]}  # fmt: skip
    sources = ["apt-get install octave`; MALSAR_HOME: a checkout of github.com/jiayuzhou/MALSAR",
               "r-base-core r-cran-mass", "github.com/transbioZI/RMTL; RMTL_LIB"]  # fmt: skip
    notes = [r["text"] for r in rows[1:]]
    for note, name, reason in zip(notes, ["MALSAR", "RMTL"], why[missing], strict=True):
        assert note.startswith(f"{name} skipped: {reason}"), note
    assert sources[0] in notes[0] and all(s in notes[1] for s in sources[1:])
    text = report.write("peers", rows, "quick", [("date", "today")], 1.0, tmp_path / "r.md")[1]
    assert all(n in text for n in notes) and "## Results" in text


PEER_PROBLEMS = {
    "tiny kNN": (lambda: D.knn_tasks(6, 30, 3, n_neighbors=2), "squared"),
    "tiny complete, unscaled": (lambda: D.synthetic(5, (20, 40), 3, structure="complete",
                                                    feature_scale=5.0), "squared"),
    "tiny logistic": (lambda: D.synthetic(5, 40, 3, loss="logistic", n_neighbors=2), "logistic"),
}  # fmt: skip


@pytest.mark.parametrize("peer", ["MALSAR", "RMTL"])
@pytest.mark.parametrize("problem", PEER_PROBLEMS)
def test_mtreg_solution_minimises_each_peers_mapped_problem(peer, problem):
    """The peers' objectives written in NumPy (MALSAR: sum_t 0.5 ||X_t w_t - y_t||^2, RMTL and
    both logistic ones: each task's loss averaged; + lam1 ||W G||^2 + lam2 ||W||^2) on the
    arrays ``peers.mapped`` gives them: their gradient vanishes at mtreg's solution."""
    import benchmarks.peers as P

    p = PEER_PROBLEMS[problem][0]()
    fit = D.regressor if p.loss == "squared" else D.classifier
    est = fit(p, tol=1e-13).fit(p.X, p.y, task_ids=p.t)
    a, lam1, lam2 = P.mapped(p, peer)
    t = np.repeat(np.arange(p.T), a["counts"].astype(int))
    W, C = est.coef_, est.intercept_ if p.loss == "logistic" else np.zeros(p.T)
    f = np.einsum("ij,ij->i", a["X"], W[t]) + C[t]
    averaged = peer == "RMTL" or p.loss == "logistic"
    weight = 1 / a["counts"][t] if averaged else 1.0
    r = weight * (f - a["y"] if p.loss == "squared" else -a["y"] / (1 + np.exp(a["y"] * f)))
    data = np.zeros_like(W)
    np.add.at(data, t, a["X"] * r[:, None])
    grad = data + 2 * lam1 * (a["R"] @ a["R"].T) @ W + 2 * lam2 * W
    start = np.zeros_like(W)  # the data term's gradient at W = 0, C = 0, for scale
    y0 = -a["y"] if p.loss == "squared" else -a["y"] / 2
    np.add.at(start, t, a["X"] * (weight * y0)[:, None])
    assert np.abs(grad).max() < 1e-8 * np.abs(start).max()
    assert np.abs(np.bincount(t, r)).max() < 1e-8 * np.abs(start).max()  # intercepts


def test_peers_agree_with_mtreg_on_tiny_problems(monkeypatch, tmp_path):
    """Each installed peer (MALSAR_HOME, RMTL_LIB), given the mapped problem, reaches mtreg's W
    to 1e-6 and its J; where neither is installed (CI), the suite says so and how to install
    them (the mapping itself is checked in NumPy above)."""
    import benchmarks.peers as P

    monkeypatch.setattr(P, "PROBLEMS", PEER_PROBLEMS)
    quick = dict(repeats=2, peer_repeats=2, budget=10.0, logistic=True)
    monkeypatch.setitem(P.MODES, "quick", quick)
    rows = P.run("quick")
    installed = [name for name in P.PEERS if not P.missing(name)]
    notes = [r["text"] for r in rows if r["kind"] == "note"]
    assert len(notes) == len(P.PEERS) - len(installed)
    assert all(n.endswith(")") and "(install: " in n for n in notes)
    if not installed:
        return
    text = report.write("peers", rows, "quick", [("date", "today")], 1.0, tmp_path / "r.md")[1]
    check_report("peers", text, len(installed) * len(PEER_PROBLEMS))
    compared = [r for r in rows if r["kind"] == "peer"]
    assert [(r["problem"], r["peer"]) for r in compared] == [
        (p, name) for p in PEER_PROBLEMS for name in installed
    ]
    for r in compared:  # the first tolerance that agrees is the one reported
        assert len(r["times"]) == 2 and r["dev"] <= P.AGREE and abs(r["gap"]) < 1e-9, r
        assert r["tried"][-1]["tol"] == r["tol"] and all(
            s["dev"] > P.AGREE for s in r["tried"][:-1]
        )


# --- the accuracy suite's practitioners' contenders ------------------------------------------


def _tiny_tasks(classify=False, T=6, n_t=30, d=3, seed=0):
    """Features, then the task label as the last column (as the accuracy suite builds X)."""
    r = np.random.default_rng(seed)
    t = np.repeat(np.arange(T), n_t)
    X = r.normal(size=(T * n_t, d))
    W = 1.0 + 0.5 * r.normal(size=(T, d))
    y = np.einsum("ij,ij->i", X, W[t]) + r.normal(size=len(t)) + t
    y = (y > np.median(y)).astype(float) if classify else y
    return np.column_stack([X, t]).astype(float), y


@pytest.mark.parametrize("classify", [False, True])
def test_practitioners_contenders_fit_through_fit_spec(classify):
    C = pytest.importorskip("benchmarks.contenders")
    X, y = _tiny_tasks(classify)
    specs = C.quick_specs(C.practitioners(X.shape[1] - 1, 3, classify=classify))
    names = [s.name for s in specs]
    assert (C.BAYES in names) is not classify and any("LightGBM" in n for n in names)
    for spec in (s for s in specs if s.estimator is not None):
        fitted, info = C.fit_spec(spec, X, y)
        out = fitted.decision_function(X) if classify else fitted.predict(X)
        assert out.shape == y.shape and np.all(np.isfinite(out)), spec.name
        assert info["seconds"] > 0 and isinstance(info["chosen"], dict)
        if not classify:  # every regressor explains most of y on its training rows
            assert 1 - np.var(y - out) / np.var(y) > 0.5, spec.name


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_big_ridge_and_mixedlm_read_tasks_from_the_last_column():
    """The interactions design is [x, one-hot, one-hot x x]; an unseen task gets the shared
    part. MixedLM's BLUPs: rows of a task predicted with its own intercept, an unseen task
    with the fixed part only."""
    C = pytest.importorskip("benchmarks.contenders")
    pytest.importorskip("statsmodels")
    X, y = _tiny_tasks(T=4, n_t=40, d=2)
    Z = C.Interactions().fit(X).transform(X).toarray()
    t, x = X[:, -1].astype(int), X[:, :2]
    assert Z.shape == (len(y), 2 + 4 * 3)
    np.testing.assert_array_equal(Z[:, :2], x)
    np.testing.assert_array_equal(Z[np.arange(len(t)), 2 + 3 * t], np.ones(len(t)))
    np.testing.assert_array_equal(Z[np.arange(len(t)), 3 + 3 * t], x[:, 0])
    new = np.column_stack([x[:3], [9.0, 9.0, 9.0]])
    assert not C.Interactions().fit(X).transform(new).toarray()[:, 2:].any()
    mixed = C.MixedLM().fit(X, y)
    gap = [np.mean(y[t == k] - mixed.predict(X[t == k])) for k in range(4)]
    assert np.abs(gap).max() < 0.5  # the task offsets of y (0, 1, 2, 3) are captured
    np.testing.assert_allclose(mixed.predict(new), mixed.fe_[0] + x[:3] @ mixed.fe_[1:])


@pytest.mark.parametrize("package", ["lightgbm", "statsmodels"])
def test_missing_optional_package_gives_a_skipped_note(package, monkeypatch):
    C = pytest.importorskip("benchmarks.contenders")
    A = pytest.importorskip("benchmarks.accuracy")
    monkeypatch.setitem(sys.modules, package, None)  # import now raises ImportError
    specs = C.practitioners(3, 3)
    # the other optional package may be absent too (CI's test environment has no lightgbm)
    (gone,) = [s for s in specs if s.estimator is None and f"skipped: {package} " in s.note]
    assert gone.note.startswith(f"skipped: {package} not importable")
    X, y = _tiny_tasks()
    half = np.arange(len(y)) % 2 == 0
    splits = [(np.flatnonzero(half), np.flatnonzero(~half))]
    some = [s for s in C.quick_specs(specs) if s.estimator is None or "ridge" in s.name]
    rows = A.fit_rows("c", some, ("rmse",), splits, X, y, X[:, -1])
    skipped = [r["model"] for r in rows if r["kind"] == "skipped"]
    assert gone.name in skipped and skipped == [s.name for s in some if s.estimator is None]
    assert [r["model"] for r in rows if r["kind"] == "score"] == [specs[1].name]


def test_rolling_later_tests_each_groups_next_recordings():
    rng = np.random.default_rng(0)
    groups, time = rng.integers(0, 4, 300), rng.integers(0, 40, 300).astype(float)  # ties
    for train, test in D.rolling_later(groups, time, (0.75, 0.65, 0.45), 0.25):
        rest = np.setdiff1d(np.arange(300), np.concatenate([train, test]))
        assert np.intersect1d(train, test).size == 0 and test.size > 0.2 * 300
        for g in range(4):
            before, after = (time[i][groups[i] == g] for i in (train, rest))
            assert before.max() < time[test][groups[test] == g].min()
            assert time[test][groups[test] == g].max() < np.min(after, initial=np.inf)
    # distinct times: q = 0.75 holds out each group's last quarter (the earlier single split)
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    time = np.array([4.0, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1])
    (train, test), (train_half, test_half) = D.rolling_later(groups, time, (0.75, 0.5), 0.25)
    np.testing.assert_array_equal(test, [0, 4, 5])
    np.testing.assert_array_equal(train, [1, 2, 3, 6, 7, 8, 9, 10, 11])
    np.testing.assert_array_equal(test_half, [1, 6, 7])
    np.testing.assert_array_equal(train_half, [2, 3, 8, 9, 10, 11])
