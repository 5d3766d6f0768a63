"""
Landmine fields: a task graph from what is known about the tasks
================================================================

The landmine data (Xue et al., 2007) has 29 mine fields, each a classification task:
radar readings with 9 image features, 6 % of them landmines. Fields 0 to 14 are highly
foliated, fields 15 to 28 bare earth or desert. That is prior knowledge about which tasks
are alike, and a task graph says it directly: link two fields when they are of the same
type.

We train on 20 % of every field's readings (3 to 10 mines per field), as the benchmark
suite does, and compare, by the mean AUC over the fields on the other 80 %, averaged
over three random splits:

- independent logistic regressions (``graph="none"``, ``alpha=0``: scikit-learn's
  ``LogisticRegression(C=1 / (2 l2))`` per field),
- the default complete graph (every field pulled towards the mean field),
- the field-type graph.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mtreg import MultiTaskGraphClassifier
from mtreg.datasets import load_landmine
from mtreg.plotting import plot_task_graph

mines = load_landmine()
X = StandardScaler().fit_transform(mines.data)
y, task_ids, groups = mines.target, mines.task_ids, mines.task_groups

# A = 1 between fields of the same type, 0 across (the diagonal is ignored)
field_type = (groups[:, None] == groups[None, :]).astype(float)

# %%
# Splits stratified by field and label: every field's mines in training and test.
# The hyper-parameters are those the benchmark's cross-validation chose most often.

models = {
    "independent": MultiTaskGraphClassifier("none", alpha=0.0, l2=1.0),
    "complete graph": MultiTaskGraphClassifier(alpha=3.0, l2=0.001),
    "field-type graph": MultiTaskGraphClassifier(field_type, alpha=3.0, l2=0.001),
}
aucs = {name: [] for name in models}
for seed in range(3):
    train, test = train_test_split(
        np.arange(len(y)), train_size=0.2, stratify=task_ids * 2 + y, random_state=seed
    )
    for name, clf in models.items():
        clf.fit(X[train], y[train], task_ids=task_ids[train])
        proba = clf.predict_proba(X[test], task_ids=task_ids[test])[:, 1]
        in_field = [task_ids[test] == t for t in clf.tasks_]
        aucs[name].append(np.mean([roc_auc_score(y[test][m], proba[m]) for m in in_field]))
mean_auc = {name: 100 * np.mean(values) for name, values in aucs.items()}
for name, auc in mean_auc.items():
    print(f"{name:>16}: mean AUC over fields {auc:.1f} %")

# %%
# The field-type graph, and the AUCs
# ----------------------------------
# Two cliques, one per field type.

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4.5))
plot_task_graph(
    field_type,
    node_color=np.where(groups == 0, "tab:green", "tab:orange"),
    edge_width=0.5,
    ax=ax0,
    title="field-type graph (green: foliated)",
)
ax1.barh(list(mean_auc), list(mean_auc.values()), color="tab:blue")
ax1.set_xlim(min(mean_auc.values()) - 3, max(mean_auc.values()) + 1)
ax1.set_xlabel("mean AUC over the 29 fields (%)")
fig.tight_layout()
plt.show()

# %%
# The benchmark suite repeats this over 10 random splits, with the coupling chosen by
# cross-validation, and with more graphs (see :doc:`/user_guide/bench/accuracy`).
