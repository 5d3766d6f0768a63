"""The task column: task labels stored in a column of X, and the column names of data frames.

``take_task_column`` splits X (an array, a sparse matrix, a pandas or polars DataFrame or a
pyarrow Table) into the feature columns and the task labels of one column, with errors that
say what a tool that moves or drops columns (RFE, SequentialFeatureSelector, a
ColumnTransformer) did to it. The estimators' ``task_column`` and the splitters of
:mod:`mtreg.model_selection` read their labels through it.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp


def _column_names(X):
    """The column names of a pandas or polars DataFrame or a pyarrow Table, else None."""
    if hasattr(X, "column_names") and hasattr(X, "num_columns"):  # pyarrow.Table
        return list(X.column_names)
    if hasattr(X, "columns") and (hasattr(X, "iloc") or hasattr(X, "get_column")):
        return list(X.columns)  # pandas or polars
    return None


def _split_frame(X, name):
    """(X without the column ``name``, that column as an array) of a data frame."""
    if hasattr(X, "iloc"):  # pandas
        return X.drop(columns=[name]), np.asarray(X[name])
    if hasattr(X, "get_column"):  # polars
        return X.drop(name), X.get_column(name).to_numpy()
    return X.drop_columns([name]), X.column(name).to_numpy()  # pyarrow


def take_task_column(X, column):
    """Split X into (the other columns, the task labels in column ``column``).

    X may be an array, a sparse matrix, a pandas or polars DataFrame or a pyarrow Table;
    ``column`` is a position, or a name for the data frames.
    """
    names = _column_names(X)
    if names is not None:
        if isinstance(column, str) and column not in names:
            shown = names if len(names) <= 20 else names[:20] + ["..."]
            raise ValueError(
                f"task_column {column!r} is not a column of X, which has the columns "
                f"{shown}. If X comes out of a ColumnTransformer, its columns are renamed "
                "'<transformer>__<column>' unless it is built with "
                "verbose_feature_names_out=False; pass that, or the new name."
            )
        if not isinstance(column, str):
            _check_position(column, len(names))
            column = names[column]
        return _split_frame(X, column)
    if isinstance(column, str):
        raise ValueError(
            f"task_column={column!r} names a column, but X has no column names (a tool that "
            "passes X on as an array, such as RFE or SequentialFeatureSelector, drops them): "
            "give task_ids through metadata routing instead."
        )
    if sp.issparse(X):
        X = sp.csc_matrix(X)
    else:
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X with a task column, got shape {X.shape}.")
    n_columns = X.shape[1]
    _check_position(column, n_columns)
    if n_columns == 1:
        raise ValueError(
            f"X has one column, the task column (task_column={column}), and no feature: a "
            "tool that fits on column subsets (SequentialFeatureSelector, RFE) may leave the "
            "task column out; give task_ids through metadata routing instead."
        )
    k = column % n_columns
    keep = np.delete(np.arange(n_columns), k)
    labels = X[:, k].toarray().ravel() if sp.issparse(X) else X[:, k]
    _check_not_a_feature(labels, column)
    return X[:, keep], labels


def _check_not_a_feature(labels, column):
    """Task labels read from a float column must be whole numbers: fractions mean the
    column is a feature, as when a tool that drops columns (RFE) moved the task column."""
    values = labels
    if values.dtype == object:  # an object array (a task column of mixed types)
        floats = [v for v in values.tolist() if isinstance(v, (float, np.floating))]
        values = np.asarray(floats, dtype=np.float64)
    if values.dtype.kind == "f" and values.size:
        finite = values[np.isfinite(values)]
        fraction = finite[finite != np.round(finite)]
        if fraction.size:
            raise ValueError(
                f"task_column={column} holds fractional numbers (such as {fraction[0]:g}), "
                "which look like a feature, not task labels. A transformer before the "
                "estimator (a scaler in a Pipeline) changes the task column: apply it to the "
                "features only, with a ColumnTransformer(..., remainder='passthrough'). A tool "
                "that fits on column subsets (RFE, SelectFromModel, SequentialFeatureSelector) "
                "moves the task column: keep it last (task_column=-1) or give task_ids through "
                "metadata routing; for real task labels, use integers or strings."
            )


def _check_position(column, n_columns):
    if isinstance(column, (bool, np.bool_)) or not isinstance(column, Integral):
        raise ValueError(f"task_column must be an int, a str or None, got {column!r}.")
    if not -n_columns <= column < n_columns:
        raise ValueError(f"task_column={column} is out of range for X with {n_columns} columns.")


def frame_columns(y):
    """The column names of a 2-D y given as a data frame (the task labels), else None."""
    names = _column_names(y)
    return None if names is None else np.asarray(names)
