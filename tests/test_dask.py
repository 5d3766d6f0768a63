"""fit on dask arrays, on a dask.distributed cluster, and searches under joblib's dask backend."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import make_long_data

from mtreg import MultiTaskGraphRegressor

da = pytest.importorskip("dask.array", reason="dask is an optional extra (mtreg[dask])")
distributed = pytest.importorskip("distributed", reason="distributed is an optional extra")


def to_dask(*arrays, chunks=37):
    return [None if a is None else da.from_array(a, chunks=chunks) for a in arrays]


def chain(T):
    return sp.csr_matrix(np.diag(np.ones(T - 1), 1) + np.diag(np.ones(T - 1), -1))


@pytest.mark.parametrize("graph", [None, "chain"])
@pytest.mark.parametrize("weighted", [False, True])
def test_dask_fit_equals_numpy_fit(rng, graph, weighted):
    X, y, t = make_long_data(rng, n_tasks=6, n_per_task=40, d=4, feature_scale=20.0)
    sw = rng.uniform(0, 2, size=len(y)) if weighted else None
    A = chain(6) if graph else None
    ref = MultiTaskGraphRegressor(A, alpha=3.0).fit(X, y, task_ids=t, sample_weight=sw)
    est = MultiTaskGraphRegressor(A, alpha=3.0).fit(
        *to_dask(X, y), task_ids=to_dask(t)[0], sample_weight=to_dask(sw, chunks=50)[0]
    )
    assert est.solver_ == ref.solver_
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.predict(X, task_ids=t), ref.predict(X, task_ids=t), rtol=1e-10)


def test_dask_multi_output_and_single_task(rng):
    X = rng.normal(size=(200, 3)) + 4
    Y = rng.normal(size=(200, 5))
    ref = MultiTaskGraphRegressor().fit(X, Y)
    est = MultiTaskGraphRegressor().fit(*to_dask(X, Y))
    assert est.solver_ == "eigen"
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    one = MultiTaskGraphRegressor().fit(*to_dask(X, Y[:, 0]))
    np.testing.assert_allclose(
        one.coef_, MultiTaskGraphRegressor().fit(X, Y[:, 0]).coef_, rtol=1e-10
    )


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0", processes=True
    ) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_fit_on_a_local_cluster(rng, client):
    X, y, t = make_long_data(rng, n_tasks=8, n_per_task=50, d=3)
    dX, dy, dt = to_dask(X, y, t, chunks=60)
    est = MultiTaskGraphRegressor(chain(8), alpha=2.0).fit(dX, dy, task_ids=dt)
    ref = MultiTaskGraphRegressor(chain(8), alpha=2.0).fit(X, y, task_ids=t)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    assert len(client.scheduler_info()["workers"]) == 2


def test_grid_search_under_joblib_dask_backend(rng, client):
    import joblib
    from sklearn.model_selection import GridSearchCV

    from mtreg import TaskStratifiedKFold

    X, y, t = make_long_data(rng, n_tasks=4, n_per_task=30)
    Xt = np.column_stack([t, X])
    cv = list(TaskStratifiedKFold(3, task_column=0).split(Xt))
    grid = {"alpha": [0.1, 1.0, 10.0]}
    serial = GridSearchCV(MultiTaskGraphRegressor(task_column=0), grid, cv=cv).fit(Xt, y)
    with joblib.parallel_backend("dask"):
        search = GridSearchCV(MultiTaskGraphRegressor(task_column=0), grid, cv=cv, n_jobs=-1)
        search.fit(Xt, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-12
    )
    assert search.best_params_ == serial.best_params_


def failing_block(block, block_info=None):
    if block_info[0]["chunk-location"][0] == 2:
        raise RuntimeError("worker lost its disk")
    return block


@pytest.mark.parametrize("fault", ["nan", "unknown task", "worker error"])
def test_a_bad_chunk_fails_the_fit_and_changes_nothing(rng, client, fault):
    X, y, t = make_long_data(rng, n_tasks=4, n_per_task=40)
    est = MultiTaskGraphRegressor(tasks=range(4)).fit(X, y, task_ids=t)
    before = pickle.dumps(est)
    dX, dy, dt = to_dask(X, y, t, chunks=30)
    if fault == "nan":
        bad = X.copy()
        bad[100, 1] = np.nan
        dX, message = to_dask(bad, chunks=30)[0], "Input X contains NaN"
    elif fault == "unknown task":
        bad = t.copy()
        bad[100] = 9
        dt, message = to_dask(bad, chunks=30)[0], "unknown task labels 9"
    else:
        dX, message = dX.map_blocks(failing_block, dtype=float), "worker lost its disk"
    with pytest.raises((ValueError, RuntimeError), match=message):
        est.fit(dX, dy, task_ids=dt)
    assert pickle.dumps(est) == before


def test_mtreg_does_not_import_dask():
    code = "import sys, mtreg; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
