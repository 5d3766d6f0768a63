"""
The computer survey: 190 respondents, 20 ratings each
=====================================================

In Lenk et al.'s (1996) conjoint survey, 190 people rated the same 20 computer profiles
(13 binary attributes: price, memory, screen size, ...) from 0 to 10. Each respondent is a
task, with 16 training ratings for 13 coefficients: one regression per respondent
overfits, one model for everyone ignores that people value the attributes differently.
Every respondent is observed at the same 20 profiles.

We fit on Lenk's 16 calibration profiles and score the 4 hold-out profiles by RMSE:
independent ridge per respondent, pooled ridge, the mean-regularised model (default
graph) and a task covariance learned with the models (``graph="learn"``, Zhang & Yeung
2010), whose learned correlations between respondents we then draw.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge

from mtreg import MultiTaskGraphRegressor, MultiTaskGraphRegressorCV
from mtreg.datasets import load_computer_survey
from mtreg.plotting import plot_task_coefficients, plot_task_matrix

survey = load_computer_survey()
X, y, task_ids = survey.data, survey.target, survey.task_ids
train, test = survey.splits[0]
print(f"{len(np.unique(task_ids))} respondents, {len(train)} training and {len(test)} test rows")

grid = np.logspace(-2, 3, 11)
models = {
    "independent": MultiTaskGraphRegressorCV("none", alphas=0.0, l2s=grid),
    "pooled": Ridge(alpha=100.0),
    "mean-regularised": MultiTaskGraphRegressorCV(alphas=grid, l2s=[0.01, 0.1, 1.0]),
    "learned covariance": MultiTaskGraphRegressor("learn", alpha=1.0, l2=0.1),
}
rmse = {}
for name, model in models.items():
    if name == "pooled":
        pred = model.fit(X[train], y[train]).predict(X[test])
    else:
        model.fit(X[train], y[train], task_ids=task_ids[train])
        pred = model.predict(X[test], task_ids=task_ids[test])
    rmse[name] = np.sqrt(np.mean((pred - y[test]) ** 2))
    print(f"{name:>18}: hold-out RMSE {rmse[name]:.3f}")

# %%
# What the respondents share, and what they do not
# ------------------------------------------------
# Left: each respondent's coefficients (thin lines) around their mean (thick), from the
# mean-regularised model. Right: the correlations between respondents of the learned
# task covariance ``task_covariance_``, ordered by hierarchical clustering.

learned = models["learned covariance"]
cov = learned.task_covariance_
corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 5))
plot_task_coefficients(models["mean-regularised"], feature_names=survey.feature_names, ax=ax0)
ax0.tick_params(axis="x", labelrotation=60)
plot_task_matrix(corr, cluster=True, ax=ax1, title="learned task correlations")
fig.tight_layout()
plt.show()
