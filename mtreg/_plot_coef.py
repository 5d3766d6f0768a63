"""The parts of :func:`mtreg.plotting.plot_task_coefficients`: the coefficient matrix of
any input, and its two drawings."""

import numpy as np

from ._plot_base import is_estimator, label_axis, needs_rotation, task_labels


def coefficient_matrix(obj, tasks, feature_names, class_index):
    """(W of shape (T, d), task labels, feature names, class description) from any input."""
    what = None
    if is_estimator(obj):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(obj, "coef_")
        coef = np.asarray(obj.coef_)
        tasks = obj.tasks_ if tasks is None else tasks
        if feature_names is None and hasattr(obj, "feature_names_in_"):
            feature_names = list(obj.feature_names_in_)
            column = getattr(obj, "task_column", None)
            if column is not None and len(feature_names) == coef.shape[-1] + 1:
                feature_names.pop(
                    feature_names.index(column)
                    if isinstance(column, str)
                    else column % len(feature_names)
                )
        classes = getattr(obj, "classes_", None)
    else:
        coef, classes = np.asarray(obj, dtype=np.float64), None
    if coef.ndim == 3:
        if class_index is None:
            which = "" if classes is None else f" (classes {list(classes)})"
            raise ValueError(
                f"coef has one block per class{which}: pass class_index=k to "
                f"show class k, 0 <= k < {coef.shape[0]}."
            )
        coef = coef[class_index]
        what = (
            f"class {classes[class_index]!r}"
            if classes is not None
            else (f"class index {class_index}")
        )
    elif class_index is not None:
        raise ValueError(
            "class_index is only for coefficients of shape (n_classes, n_tasks, "
            f"n_features); these have shape {coef.shape}."
        )
    if coef.ndim != 2:
        raise ValueError(f"coef must have shape (n_tasks, n_features), got {coef.shape}.")
    T, d = coef.shape
    tasks = task_labels(tasks, T)
    names = [f"x{j}" for j in range(d)] if feature_names is None else list(feature_names)
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names but there are {d} features.")
    return coef, tasks, names, what


def draw_coefficient_lines(ax, W, mean, tasks, names):
    T, d = W.shape
    x = np.arange(d)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    for t in range(T):
        if T <= 10:
            ax.plot(
                x, W[t], marker="o", markersize=4, linewidth=1.2, alpha=0.8, label=str(tasks[t])
            )
        else:
            ax.plot(
                x,
                W[t],
                marker=".",
                linewidth=0.8,
                color="0.55",
                alpha=0.6,
                label=f"tasks ({T})" if t == 0 else "_nolegend_",
            )
    ax.plot(
        x,
        mean,
        color="black",
        linewidth=3.0,
        marker="o",
        markersize=6,
        label="mean over tasks",
        zorder=3,
    )
    label_axis(ax.xaxis, names, rotate=needs_rotation(names))
    ax.set_xlabel("feature")
    ax.set_ylabel("coefficient $w_{t,j}$")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        title="task" if T <= 10 else None,
        frameon=False,
    )


def draw_coefficient_scatter(ax, W, mean, tasks):
    T, d = W.shape
    lo, hi = min(W.min(), mean.min()), max(W.max(), mean.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot(
        [lo - pad, hi + pad],
        [lo - pad, hi + pad],
        color="black",
        linewidth=1.5,
        label="$w_t$ = mean $w$",
        zorder=1,
    )
    for t in range(T):
        ax.scatter(
            mean,
            W[t],
            s=18,
            alpha=0.8,
            zorder=2,
            label=str(tasks[t]) if T <= 10 else (f"tasks ({T})" if t == 0 else "_nolegend_"),
            color=None if T <= 10 else "C0",
        )
    ax.set_xlabel("mean over tasks of $w_{t,j}$")
    ax.set_ylabel("$w_{t,j}$ (one point per task and feature)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        title="task" if T <= 10 else None,
        frameon=False,
    )
