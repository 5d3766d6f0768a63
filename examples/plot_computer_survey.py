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
graph) with its single alpha chosen by cross-validation, a task covariance learned with
the models (``graph="learn"``, Zhang & Yeung 2010), whose learned correlations between
respondents we then draw, and the mean-regularised model with one coupling per attribute
learned from the data by :class:`~mtreg.BayesianMultiTaskGraphRegressor` (the evidence,
no cross-validation): people disagree more about some attributes than about others.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge

from mtreg import (
    BayesianMultiTaskGraphRegressor,
    MultiTaskGraphRegressor,
    MultiTaskGraphRegressorCV,
)
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
    "Bayes, one alpha": BayesianMultiTaskGraphRegressor(feature_scales="shared"),
    "Bayes, alpha per feature": BayesianMultiTaskGraphRegressor(),
}
rmse = {}
for name, model in models.items():
    start = time.perf_counter()
    if name == "pooled":
        pred = model.fit(X[train], y[train]).predict(X[test])
    else:
        model.fit(X[train], y[train], task_ids=task_ids[train])
        pred = model.predict(X[test], task_ids=task_ids[test])
    rmse[name] = np.sqrt(np.mean((pred - y[test]) ** 2))
    seconds = time.perf_counter() - start
    print(f"{name:>24}: RMSE {rmse[name]:.3f} ({seconds:.1f} s)")

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

# %%
# One alpha for all attributes, chosen by cross-validation or by the evidence, gives
# about the same model; one alpha per attribute, learned by the evidence without any
# grid, predicts the held-out ratings better.
#
# Learned per-feature coupling
# ----------------------------
# The cross-validated model couples every attribute with one alpha. The Bayesian model
# learns one per attribute: in its probabilistic reading, respondent t's coefficient of
# attribute j is the population's plus a deviation of variance
# ``noise_variance_ / (alpha_j + l2_j)`` (the random slope variance of a mixed model).
# Below, the standard deviation of those deviations per attribute, against what the
# single alpha chosen by cross-validation implies at the same noise variance.

cv, bayes = models["mean-regularised"], models["Bayes, alpha per feature"]
sigma2 = bayes.noise_variance_
slope_sd = np.sqrt(sigma2 / (bayes.alpha_ + bayes.l2_))
cv_sd = np.sqrt(sigma2 / (cv.alpha_ + cv.l2_))
print(f"CV: alpha {cv.alpha_:g}, l2 {cv.l2_:g}; Bayes: noise variance {sigma2:.2f}")
for j, name in enumerate(survey.feature_names):
    print(f"{name:>13}: alpha {bayes.alpha_[j]:7.2f}, l2 {bayes.l2_[j]:7.3f}, sd {slope_sd[j]:.2f}")

order = np.argsort(slope_sd)[::-1]
fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(
    np.array(survey.feature_names)[order],
    slope_sd[order],
    color="tab:blue",
    label="learned per attribute (evidence)",
)
ax.axhline(cv_sd, color="tab:orange", lw=2, label=f"one alpha by CV ({cv.alpha_:g})")
ax.set(ylabel="sd of the coefficients", title="how much respondents disagree")
ax.tick_params(axis="x", labelrotation=60)
ax.legend()
fig.tight_layout()
plt.show()
