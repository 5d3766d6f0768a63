"""
Intervals for a new task: exam scores of schools never seen
===========================================================

:class:`~mtreg.BayesianMultiTaskGraphRegressor` learns the coupling of the school models
from the data (one alpha per feature, a random intercept, the noise variance: no grid, no
cross-validation) and gives every prediction a standard deviation. With
``unseen_tasks="population"`` it also predicts schools that were not in the training
data: a new school is a new draw from the population of schools, so its intervals are
wider than those of a school it has seen.

We hold out a fifth of the 139 schools of the school data entirely, fit on the training
rows (the first canonical split) of the others, and check how often the 95 % intervals
(``mean +/- 1.96 std``) contain the held-out students' scores, in seen and in new schools.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import StandardScaler

from mtreg import BayesianMultiTaskGraphRegressor
from mtreg.datasets import load_school

school = load_school()
X, y, task_ids = school.data, school.target, school.task_ids
train, test = school.splits[0]
X = StandardScaler().fit(X[train]).transform(X)

schools = np.unique(task_ids)
rng = np.random.default_rng(0)
new_schools = rng.choice(schools, size=len(schools) // 5, replace=False)
is_new = np.isin(task_ids, new_schools)
fit_rows = train[~is_new[train]]
rows = {
    "seen schools": test[~is_new[test]],  # their test students
    "new schools": np.flatnonzero(is_new),  # all their students
}
n_seen = len(schools) - len(new_schools)
print(f"{n_seen} schools in training, {len(fit_rows)} students")

start = time.perf_counter()
model = BayesianMultiTaskGraphRegressor(unseen_tasks="population")
model.fit(X[fit_rows], y[fit_rows], task_ids=task_ids[fit_rows])
print(f"fit in {time.perf_counter() - start:.1f} s, {model.n_iter_} iterations")
sigma2 = model.noise_variance_
print(f"noise sd {np.sqrt(sigma2):.2f}")
intercept_sd = np.sqrt(sigma2 / model.alpha_intercept_)
print(f"sd of the schools' intercepts {intercept_sd:.2f}")

# %%
# Coverage of the intervals
# -------------------------
# The fraction of held-out students whose score lies in the central interval of each
# level, for the test students of the schools seen in training and for every student of
# the new schools.

levels = np.array([0.5, 0.8, 0.9, 0.95, 0.99])
z = np.array([0.674490, 1.281552, 1.644854, 1.959964, 2.575829])
coverage = {}
for name, r in rows.items():
    mean, std = model.predict(X[r], task_ids=task_ids[r], return_std=True)
    inside = np.abs(y[r] - mean)[:, None] <= z * std[:, None]
    coverage[name] = inside.mean(axis=0)
    rmse = np.sqrt(np.mean((y[r] - mean) ** 2))
    print(f"{name}: {len(r)} students, RMSE {rmse:.2f}, mean std {std.mean():.2f}")
    print(f"  95 % intervals cover {100 * coverage[name][3]:.1f} %")

# %%
# Left: the coverage against the nominal level (on the diagonal when the intervals
# are calibrated). Right: the students of one new school, with their 95 % intervals.

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.5))
ax0.plot([0.45, 1.0], [0.45, 1.0], color="grey", lw=1, label="nominal")
for name, marker in zip(rows, "os", strict=False):
    ax0.plot(levels, coverage[name], marker=marker, label=name)
ax0.set(xlabel="nominal level", ylabel="fraction inside", title="coverage")
ax0.legend()

one = new_schools[0]
mine = task_ids == one
mean, std = model.predict(X[mine], task_ids=task_ids[mine], return_std=True)
order = np.argsort(mean)
k = np.arange(len(order))
half = 1.96 * std[order]
ax1.errorbar(k, mean[order], yerr=half, fmt="o", ms=3, lw=1, label="95 % interval")
ax1.plot(k, y[mine][order], "k.", label="observed score")
ax1.set(xlabel="student (by prediction)", ylabel="exam score")
ax1.set_title(f"new school {one}")
ax1.legend(loc="upper left", framealpha=0.9)
fig.tight_layout()
plt.show()
