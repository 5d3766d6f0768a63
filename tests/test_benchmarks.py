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
        a=dict(repeats=2, budget=0.2), b=dict(T=60, repeats=2), c=dict(n=300, d=8, T=12, repeats=2)
    ),
    "cv": dict(repeats=1, serial_repeats=1, loo_repeats=1, subset=(3, 6)),
    "speed": dict(
        repeats=2, slow_repeats=1, budget=0.2, curve_budget=0.2, slow_limit=0.05,
        cvxpy_limit=1.0, cvxpy_max_n=0, axes={"n": dict(values=[10, 20], T=8, d=4)},
    ),
}  # fmt: skip
HEADERS = {
    "regressor": "| problem | mtreg fit: median (min–max) | compared with | its time | ratio",
    "cv": "| problem | mtreg: median (min–max) | compared with | its time | speed-up",
    "speed": "| problem | contender | its fit: median (min–max) | paired with |",
}


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
    assert HEADERS[suite] in text and "## Results" in text
    results = text.split("## Results")[1]
    n_rows = sum(1 for line in results.split("\n\n")[1].splitlines()[2:])
    assert n_rows >= len([r for r in compares if r["suite"] == suite])


def test_cli_rejects_unknown_suite():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit):
        main(["--only", "nonsense"])


# --- the suites with their own module: classifier, scale, threads, accuracy ------------------

MODULE_HEADERS = {
    "classifier": "| problem | mtreg solver | iterations to 1e-6 | mtreg: time to (J - J*)/J*",
    "scale": "| c. T | n | d | nnz(A) | solver | fit: median (min–max) |",
    "threads": "| fit | largest call (flops) | quiet: BLAS threads | quiet: 1 thread |",
    "accuracy": "| target | wanted | measured (mean ± std over splits) | met |",
}


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
    assert MODULE_HEADERS[suite] in text and "## Results" in text
    if suite == "classifier":  # every mtreg solver reached 1e-6 and was timed against NumPy
        for r in (r for r in rows if r["kind"] == "classifier"):
            assert all(g <= 1e-6 for g in r["gaps"].values())
    if suite == "scale":
        (c,) = [r for r in rows if r["kind"] == "scale"]
        assert c["solver"] == "pcg" and c["rel_grad"] < 1e-8 and c["profile"]
    if suite == "accuracy":
        scores = [r["auc"] for r in rows if r["kind"] == "score"]
        assert len(scores) == 3 and all(0.5 < s <= 1.0 for s in scores)
