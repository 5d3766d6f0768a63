"""
Choosing alpha: MultiTaskGraphRegressorCV against GridSearchCV
==============================================================

:class:`~mtreg.MultiTaskGraphRegressorCV` searches a grid of ``alpha`` (and ``l2``)
values at the cost of a few fits: each fold's moments come from one pass over the data,
and what does not depend on alpha is factorised once per fold. scikit-learn's
``GridSearchCV`` refits the model for every grid point and fold. Both are given the same
folds (:class:`~mtreg.TaskStratifiedKFold`, which keeps every school in every training
fold) and the same score (R^2 of the held-out rows), so they must choose the same alpha
with the same cross-validated scores. We time both on the school data.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.model_selection import GridSearchCV

from mtreg import MultiTaskGraphRegressor, MultiTaskGraphRegressorCV, TaskStratifiedKFold
from mtreg.datasets import load_school
from mtreg.metrics import task_scorer

X, y, task_ids = load_school(return_X_y_tasks=True)
alphas = np.logspace(-1, 4, 16)
cv = TaskStratifiedKFold(5, shuffle=True, random_state=0)

# numba compiles mtreg's kernels at their first call (and caches them on disk): one
# untimed fit of each kind first, so that the timings below compare the searches only
MultiTaskGraphRegressorCV(alphas=alphas, cv=cv).fit(X, y, task_ids=task_ids)
MultiTaskGraphRegressor().fit(X, y, task_ids=task_ids)

# %%
# The CV estimator
# ----------------
# ``cv`` receives the task labels as ``groups``; the default k-fold score is R^2.

start = time.perf_counter()
fast = MultiTaskGraphRegressorCV(alphas=alphas, l2s=1.0, cv=cv).fit(X, y, task_ids=task_ids)
fast_time = time.perf_counter() - start

# %%
# GridSearchCV, task_ids routed as metadata
# -----------------------------------------
# scikit-learn's named scorers call ``predict`` without ``task_ids``;
# :func:`mtreg.metrics.task_scorer` passes them on.

sklearn.set_config(enable_metadata_routing=True)
est = (
    MultiTaskGraphRegressor(l2=1.0)
    .set_fit_request(task_ids=True)
    .set_predict_request(task_ids=True)
    .set_score_request(task_ids=True)
)
start = time.perf_counter()
search = GridSearchCV(est, {"alpha": alphas}, cv=cv, scoring=task_scorer("r2"))
search.fit(X, y, task_ids=task_ids)
grid_time = time.perf_counter() - start
sklearn.set_config(enable_metadata_routing=False)

print(f"MultiTaskGraphRegressorCV: alpha = {fast.alpha_:.4g} in {fast_time:.2f} s")
print(f"GridSearchCV:              alpha = {search.best_params_['alpha']:.4g} in {grid_time:.2f} s")
gap = np.abs(fast.cv_results_["mean_test_score"] - search.cv_results_["mean_test_score"]).max()
print(f"largest difference of the mean test scores over the grid: {gap:.1e}")

# %%
# The two validation curves lie on top of each other:

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogx(alphas, search.cv_results_["mean_test_score"], lw=4, alpha=0.4, label="GridSearchCV")
ax.semilogx(alphas, fast.cv_results_["mean_test_score"], "k.--", label="MultiTaskGraphRegressorCV")
ax.axvline(fast.alpha_, color="gray", lw=0.8)
ax.set_xlabel("alpha")
ax.set_ylabel("mean held-out R^2 (5 folds)")
ax.set_title(f"{grid_time / fast_time:.0f}x faster, same answer")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# With ``cv=None`` (the default) the CV estimator computes exact leave-one-out instead,
# which ``GridSearchCV(cv=LeaveOneOut())`` would need 15,362 fits per grid point for.
