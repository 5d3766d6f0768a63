"""
Pipelines and cross-validation: a task column, or metadata routing
==================================================================

scikit-learn's tools pass ``X`` and ``y`` around, and a multi-task model also needs each
row's task label. mtreg offers two ways:

- **a task column**: the labels stay in a column of ``X`` and the estimator is built
  with ``task_column=``; every Pipeline, scorer and splitter then works, with routing off;
- **metadata routing**: ``task_ids`` is passed like ``sample_weight``, and requested by the
  estimator (``set_fit_request(task_ids=True)``, ...).

Both give the same cross-validated scores here, on the Parkinson's telemonitoring data
(42 patients as tasks, a motor UPDRS score to predict from 19 voice and patient
features). See :ref:`sklearn-tools` for which tools work which way.
"""

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mtreg import MultiTaskGraphRegressor, TaskStratifiedKFold
from mtreg.datasets import load_parkinsons
from mtreg.metrics import task_scorer

X, y, task_ids = load_parkinsons(return_X_y_tasks=True)
n_features = X.shape[1]

# %%
# A task column
# -------------
# The labels go in the last column; the ColumnTransformer scales the features and passes
# the task column through, last, where the estimator reads it. The splitter reads the
# same column, so that every patient is in every training fold.

Xt = np.empty((len(X), n_features + 1), dtype=object)
Xt[:, :n_features], Xt[:, -1] = X, task_ids
scale = ColumnTransformer(
    [("scale", StandardScaler(), list(range(n_features)))], remainder="passthrough"
)
pipe = make_pipeline(scale, MultiTaskGraphRegressor(alpha=10.0, l2=1.0, task_column=-1))
by_column = cross_validate(
    pipe,
    Xt,
    y,
    cv=TaskStratifiedKFold(5, task_column=-1),
    scoring=("r2", "neg_mean_absolute_error"),
)
print("task column: R^2 per fold", np.round(by_column["test_r2"], 4))

# %%
# Metadata routing
# ----------------
# The scorers come from :func:`mtreg.metrics.task_scorer`: scikit-learn's named scorers
# call ``predict`` without ``task_ids``, and every fold would score NaN.

sklearn.set_config(enable_metadata_routing=True)
est = (
    MultiTaskGraphRegressor(alpha=10.0, l2=1.0)
    .set_fit_request(task_ids=True)
    .set_predict_request(task_ids=True)
)
routed = cross_validate(
    make_pipeline(StandardScaler(), est),
    X,
    y,
    cv=TaskStratifiedKFold(5),
    scoring={
        "r2": task_scorer("r2"),
        "neg_mean_absolute_error": task_scorer("neg_mean_absolute_error"),
    },
    params={"task_ids": task_ids},
)
sklearn.set_config(enable_metadata_routing=False)
print("routing:     R^2 per fold", np.round(routed["test_r2"], 4))

for key in ("test_r2", "test_neg_mean_absolute_error"):
    gap = np.abs(by_column[key] - routed[key]).max()
    print(
        f"{key}: mean {routed[key].mean():.4f}, largest difference between the two ways {gap:.1e}"
    )
