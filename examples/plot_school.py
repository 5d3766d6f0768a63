"""
School exam scores: independent, pooled and multi-task models
==============================================================

The school data (ILEA, 139 schools, 15,362 students) is the classic multi-task
regression benchmark: each school is a task, and many schools have few students. We
compare three ways of fitting it on the first of the 10 canonical 75 % / 25 % splits:

- **independent**: one ridge regression per school (``graph="none"``, ``alpha=0``),
- **pooled**: one ridge regression for every school (scikit-learn's ``RidgeCV``),
- **mean-regularised multi-task** (the default complete graph): every school's model is
  pulled towards the mean of the models; the intercepts are free (unpenalised), or
  coupled like the slopes.

Then a learning curve: how each one fares when every school has only a few students.
Hyper-parameters are chosen on the training rows by exact leave-one-out
(:class:`~mtreg.MultiTaskGraphRegressorCV`), which costs about as much as a few fits.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import explained_variance_score
from sklearn.preprocessing import StandardScaler

from mtreg import MultiTaskGraphRegressorCV
from mtreg.datasets import load_school

school = load_school()
X, y, task_ids = school.data, school.target, school.task_ids
train, test = school.splits[0]
X = StandardScaler().fit(X[train]).transform(X)  # features on one scale, as l2 assumes
print(f"{X.shape[0]} students, {X.shape[1]} features, {np.unique(task_ids).size} schools")

grid = np.logspace(-2, 3, 11)
models = {
    "independent": MultiTaskGraphRegressorCV("none", alphas=0.0, l2s=grid),
    "mean-regularised": MultiTaskGraphRegressorCV(alphas=grid, l2s=grid),
    # the intercepts coupled too: a column of ones in X instead of free intercepts
    "mean-regularised, coupled intercepts": MultiTaskGraphRegressorCV(
        alphas=grid, l2s=grid, fit_intercept=False
    ),
}
with_ones = np.column_stack([X, np.ones(len(X))])

# %%
# Fit and score on the held-out students
# --------------------------------------
# Explained variance pooled over all test students, as the papers report it.


def score(model, rows_train):
    if model is None:  # pooled: one model for every school, task labels dropped
        pooled = RidgeCV(alphas=grid).fit(X[rows_train], y[rows_train])
        pred = pooled.predict(X[test])
    else:
        Xm = X if model.fit_intercept else with_ones
        model.fit(Xm[rows_train], y[rows_train], task_ids=task_ids[rows_train])
        pred = model.predict(Xm[test], task_ids=task_ids[test])
    return 100 * explained_variance_score(y[test], pred)


for name, model in [*models.items(), ("pooled", None)]:
    print(f"{name:>36}: explained variance {score(model, train):.1f} %")
best = models["mean-regularised"]
print(f"chosen coupling: alpha = {best.alpha_:.3g}, l2 = {best.l2_:.3g}")

# %%
# A learning curve: few students per school
# -----------------------------------------
# We keep at most ``m`` training students per school. With five students a school's
# own regression on 27 features is hopeless. The mean-regularised model shares the
# slopes, but each school's free intercept is still the estimate of five students, and
# the pooled model, which ignores the schools, does better with 5 or 10 students per
# school. Coupling the intercepts too (pulled towards their mean like the slopes) beats
# the pooled model at every size on this split.

rng = np.random.default_rng(0)
sizes = [5, 10, 20, 40, None]
curves = {name: [] for name in [*models, "pooled"]}
for m in sizes:
    rows = train
    if m is not None:
        rows = np.concatenate(
            [rng.permutation(train[task_ids[train] == t])[:m] for t in np.unique(task_ids[train])]
        )
    for name in curves:
        curves[name].append(score(models.get(name), rows))

fig, ax = plt.subplots(figsize=(7, 4.5))
labels = [str(m) for m in sizes[:-1]] + ["all"]
for name, values in curves.items():
    ax.plot(labels, values, marker="o", label=name)
ax.set_xlabel("training students per school (at most)")
ax.set_ylabel("test explained variance (%)")
ax.set_title("School: 139 tasks, split 1 of 10")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# The benchmark suite repeats this over the 10 canonical splits, with more models and
# the published results for comparison (see :doc:`/user_guide/bench/accuracy`).
