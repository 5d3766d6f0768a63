"""
Fitting on a dask cluster
=========================

``fit`` accepts dask arrays (``pip install "mtreg[dask]"``): each chunk's per-task
moments are computed where the chunk lives, by the same numba kernels, the moments are
reduced in a tree, and the small graph-ridge system is solved locally. Only O(T d^2)
numbers travel, never the rows.

Here a ``distributed.LocalCluster`` with two workers stands in for a real cluster (in
this process, ``processes=False``, so that the example runs as it is; worker processes
need the script's code under ``if __name__ == "__main__":``). On a real cluster, connect
a client to its scheduler instead, and the same ``fit`` runs there::

    from distributed import Client
    client = Client("tcp://scheduler-address:8786")  # then est.fit(dX, dy, task_ids=dt)
"""

import time

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster

from mtreg import MultiTaskGraphRegressor
from mtreg.datasets import make_multitask_regression

n_tasks, n_features, n_rows, chunk_rows = 200, 20, 200_000, 20_000
# the planted coefficients and task graph of a small synthetic problem
*_, graph, coef, intercept = make_multitask_regression(
    n_tasks=n_tasks, n_samples=2, n_features=n_features, structure="knn", coef=True, random_state=0
)

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
client = Client(cluster)

# %%
# Dask arrays made where they live
# --------------------------------
# The rows are drawn chunk by chunk in the workers (as ``dd.read_parquet`` would read
# them there), and ``persist`` keeps them in the workers' memory.


def targets(X, task_ids, block_id=None):
    task_ids = task_ids[:, 0]
    noise = np.random.default_rng(block_id[0]).normal(size=len(X))  # one seed per chunk
    return np.einsum("ij,ij->i", X, coef[task_ids]) + intercept[task_ids] + noise


rng = da.random.default_rng(0)
dX = rng.normal(size=(n_rows, n_features), chunks=(chunk_rows, -1))
dt = rng.integers(n_tasks, size=n_rows, chunks=chunk_rows)
dy = da.map_blocks(targets, dX, dt[:, None], drop_axis=1, dtype=float)
dX, dy, dt = client.persist([dX, dy, dt])
print(f"{n_rows:,} rows in {dX.numblocks[0]} chunks on {len(cluster.workers)} workers")

est = MultiTaskGraphRegressor(graph, alpha=1.0, l2=1.0)
est.fit(dX[:chunk_rows], dy[:chunk_rows], task_ids=dt[:chunk_rows])  # numba's first compile
start = time.perf_counter()
est.fit(dX, dy, task_ids=dt)
print(f"dask fit: {time.perf_counter() - start:.2f} s")

# %%
# The same rows in memory, for comparison

X, y, task_ids = client.compute([dX, dy, dt], sync=True)
local = MultiTaskGraphRegressor(graph, alpha=1.0, l2=1.0).fit(X, y, task_ids=task_ids)
diff = np.abs(est.coef_ - local.coef_).max() / np.abs(local.coef_).max()
print(f"max relative difference of coef_ to the in-memory fit: {diff:.1e}")

client.close()
cluster.close()

# %%
# The two fits agree to rounding:

fig, ax = plt.subplots(figsize=(5, 5))
ax.plot(local.coef_.ravel(), est.coef_.ravel(), ".", ms=3)
ax.set_xlabel("coef_ of the in-memory fit")
ax.set_ylabel("coef_ of the dask fit")
fig.tight_layout()
plt.show()
