"""
Building a task graph from the data, and drawing it
===================================================

When nothing is known about how the tasks relate, the graph can be built from the
training rows: :func:`mtreg.relations.task_similarity` fits one ridge model per task and
compares their coefficients, and :func:`mtreg.relations.similarity_graph` keeps each
task's nearest neighbours. ``graph="knn"`` does both inside ``fit`` (from the training
rows only, so that cross-validation does not leak).

Here the tasks come from :func:`mtreg.datasets.make_multitask_regression` with three
planted clusters of tasks, so we can check the built graph against the true one.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.sparse.csgraph import connected_components

from mtreg import MultiTaskGraphRegressor, MultiTaskGraphRegressorCV
from mtreg.datasets import make_multitask_regression
from mtreg.plotting import plot_task_coefficients, plot_task_graph, plot_task_matrix
from mtreg.relations import similarity_graph, task_similarity

X, y, task_ids, true_graph, coef, intercept = make_multitask_regression(
    n_tasks=24, n_samples=15, n_features=8, structure="clusters", n_clusters=3,
    spread=0.1, noise=1.0, coef=True, random_state=0,
)  # fmt: skip

S = task_similarity(X, y, task_ids)  # Gaussian similarity of per-task ridge models
knn = similarity_graph(S, n_neighbors=4)

# %%
# The similarities, ordered by hierarchical clustering
# ----------------------------------------------------
# Three blocks appear: the planted clusters, found from 15 rows per task.

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
plot_task_matrix(S, cluster=True, ax=axes[0], title="task similarity (clustered)")
plot_task_matrix(true_graph.toarray(), cluster=True, ax=axes[1], title="true task graph")
fig.tight_layout()

# %%
# The 4-nearest-neighbour graph, coloured by the true cluster
# -----------------------------------------------------------
# The clusters of the true graph are its connected components.

_, cluster = connected_components(true_graph)
colors = np.array(["tab:blue", "tab:orange", "tab:green"])[cluster]

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
plot_task_graph(knn, node_color=colors, ax=axes[0], title="4-NN graph from the data")
plot_task_graph(true_graph, node_color=colors, edge_width=1.0, ax=axes[1], title="true graph")
fig.tight_layout()

# %%
# Does the built graph help?
# --------------------------
# The error of the coefficients (their distance to the planted ones) with no graph, the
# default complete graph, the graph built in fit and the true graph, each with alpha
# chosen by exact leave-one-out. The complete graph pulls every task towards the mean
# of all of them, across the clusters; the built graph only within them.

for name, graph in [
    ("no graph", "none"),
    ("complete", None),
    ("4-NN from the data", knn),
    ("true graph", true_graph),
]:
    alphas = 0.0 if isinstance(graph, str) and graph == "none" else np.logspace(-2, 3, 11)
    est = MultiTaskGraphRegressorCV(graph, alphas=alphas, l2s=0.1).fit(X, y, task_ids=task_ids)
    err = np.linalg.norm(est.coef_ - coef) / np.linalg.norm(coef)
    print(f"{name:>18}: relative coefficient error {err:.3f} (alpha = {est.alpha_:.3g})")

# %%
# :class:`~mtreg.MultiTaskGraphRegressorCV` takes a fixed graph, hence ``knn`` built
# above from all the rows. ``graph="knn"`` builds it inside ``fit`` from the rows it is
# given, so that a cross-validation around it does not leak; its coefficients, one line
# per task, against their mean:

est = MultiTaskGraphRegressor("knn", alpha=10.0, l2=0.1).fit(X, y, task_ids=task_ids)
ax = plot_task_coefficients(est)
plt.show()
