"""
Streaming a data set larger than memory with partial_fit
========================================================

A squared-loss fit needs only per-task moments (weighted means and centred Gram
matrices), which add up over rows. :meth:`MultiTaskGraphRegressor.partial_fit
<mtreg.MultiTaskGraphRegressor.partial_fit>` takes the rows chunk by chunk, merges their
moments in O(T d^2) memory, and solves once when the model is used: the result equals
one ``fit`` on all the rows.

Here the rows come from a generator, as they would from a database cursor or a folder of
files: 60 chunks of 20,000 rows over 500 tasks with 20 features, 1.2 million rows. Only
one chunk is in memory at a time. The tasks are related by a sparse 10-nearest-neighbour
graph, so the solver is block-Jacobi preconditioned conjugate gradient ("pcg").
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from mtreg import MultiTaskGraphRegressor
from mtreg.relations import knn_graph

n_tasks, n_features, n_chunks, chunk_rows = 500, 20, 60, 20_000
rng = np.random.default_rng(0)
positions = rng.normal(size=(n_tasks, 2))  # related tasks lie close together
graph = knn_graph(positions, n_neighbors=10)
coef = positions @ rng.normal(size=(2, n_features)) + 0.1 * rng.normal(size=(n_tasks, n_features))


def chunks(seed=1):
    """Yield (X, y, task_ids) chunks; the same rows for the same seed."""
    rng = np.random.default_rng(seed)
    for _ in range(n_chunks):
        task_ids = rng.integers(n_tasks, size=chunk_rows)
        X = rng.normal(size=(chunk_rows, n_features))
        y = np.einsum("ij,ij->i", X, coef[task_ids]) + rng.normal(size=chunk_rows)
        yield X, y, task_ids


# %%
# The stream
# ----------
# ``tasks=`` names every task up front, since the first chunk need not hold them all.

est = MultiTaskGraphRegressor(graph, alpha=1.0, l2=1.0, tasks=np.arange(n_tasks))
start = time.perf_counter()
seen = []
for X, y, task_ids in chunks():
    est.partial_fit(X, y, task_ids=task_ids)
    seen.append(X.nbytes + y.nbytes + task_ids.nbytes)
coef_ = est.coef_  # the solve happens here, once
stream_time = time.perf_counter() - start
print(
    f"{n_chunks * chunk_rows:,} rows, {sum(seen) / 2**20:.0f} MiB streamed in {stream_time:.2f} s"
)
print(f"largest chunk in memory: {max(seen) / 2**20:.1f} MiB; solver {est.solver_}")

# %%
# The same rows in memory, for comparison
# ---------------------------------------
# (Possible here because this data set is small enough.)

X_all, y_all, t_all = (np.concatenate(parts) for parts in zip(*chunks(), strict=True))
full = MultiTaskGraphRegressor(graph, alpha=1.0, l2=1.0).fit(X_all, y_all, task_ids=t_all)
diff = np.abs(est.coef_ - full.coef_).max() / np.abs(full.coef_).max()
print(f"max relative difference of coef_ to one fit on all rows: {diff:.1e}")

fig, ax = plt.subplots(figsize=(5, 5))
ax.plot(coef.ravel(), est.coef_.ravel(), ".", ms=2)
ax.plot([coef.min(), coef.max()], [coef.min(), coef.max()], "k-", lw=0.8)
ax.set_xlabel("true coefficient")
ax.set_ylabel("streamed estimate")
ax.set_title(f"{n_tasks} tasks x {n_features} features")
fig.tight_layout()
plt.show()
