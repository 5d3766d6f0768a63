"""Per-feature penalties: ``alpha`` and ``l2`` as a float or one value per feature.

With arrays the smooth penalty of J is

    sum_j alpha_j w_{:,j}^T L w_{:,j} + l2_j ||w_{:,j}||^2,

so the normal equations have ``L kron diag(alpha) + I kron diag(l2)`` in place of
``alpha (L kron I) + l2 I`` (W of shape (T, d), vec(W) row by row). A constant array is the
float it repeats (:func:`as_penalty` collapses it), so every scalar route is unchanged.
"""

import numpy as np


def as_penalty(value, n_features, name):
    """``value`` as a float, or as a float64 array of shape (n_features,) when it is an
    array that is not constant; a ValueError naming the problem for a wrong shape, a
    non-finite or a negative entry."""
    if np.ndim(value) == 0:
        return float(value)
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.number):  # strings, objects, booleans
        raise ValueError(f"{name} must be a float or an array of numbers, got {value!r}.")
    array = array.astype(np.float64)
    if array.shape != (n_features,):
        raise ValueError(
            f"{name} given as an array must have shape (n_features,) = ({n_features},), one "
            f"value per feature (column of X); got shape {array.shape}. Pass a float for "
            "the same value on every feature."
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise ValueError(
            f"{name} has non-finite entries (NaN or inf) at features {bad[:10].tolist()}; "
            "every entry must be a finite number >= 0."
        )
    bad = np.flatnonzero(array < 0)
    if len(bad):
        raise ValueError(
            f"{name} must be >= 0 on every feature; it is negative at features "
            f"{bad[:10].tolist()} ({array[bad[0]]!r} at feature {bad[0]})."
        )
    if not n_features or np.all(array == array[0]):
        return float(array[0]) if n_features else 0.0
    return array


def is_per_feature(value):
    """Whether a penalty (after :func:`as_penalty`) differs between features."""
    return np.ndim(value) > 0


def largest(value):
    """The largest entry of a penalty (a float)."""
    return float(np.max(value)) if np.ndim(value) else float(value)


def smallest(value):
    """The smallest entry of a penalty (a float)."""
    return float(np.min(value)) if np.ndim(value) else float(value)


def diagonal(value, n_features):
    """The penalty as an array of shape (n_features,)."""
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n_features,))
