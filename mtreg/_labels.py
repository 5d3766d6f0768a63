"""Task labels: validation, ordering, encoding and display.

Task labels are any hashable values (ints, strings, tuples, dates, ...) and keep their
type: a list ``[1, "a"]`` holds the int 1 and the string "a", not two strings, and a list of
tuples is one tuple label per row, not a 2-D array. A missing label (None, NaN, NA, NaT) is
an error, never a task. ``tasks_`` is in sorted order unless ``tasks`` fixes it; messages
list labels in natural order (numbers by value, "task2" before "task10").
"""

import datetime
import numbers
import re

import numpy as np

_DATES = (np.datetime64, np.timedelta64, datetime.date, datetime.timedelta)


def is_missing(value):
    """True for None, NaN, pandas' NA and NaT, and NumPy's NaT."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        return bool(np.isnan(value))
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return False


def _kind(value):
    if isinstance(value, (str, np.str_)):
        return "str"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (numbers.Integral, np.integer)):
        return "int"
    if isinstance(value, (numbers.Real, np.floating)):
        return "float"
    return type(value).__name__


def _from_sequence(values):
    """A 1-D array of the items of a list: one label per item, types kept."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # element by element: a tuple stays one label
        out[i] = value
    kinds = {_kind(v) for v in values}
    if kinds <= {"str"} or kinds <= {"int"} or kinds <= {"int", "float"} or kinds <= {"bool"}:
        try:  # one plain type: a typed array, as np.asarray makes it
            typed = np.asarray(list(values))
        except (OverflowError, ValueError):
            return out
        return typed if typed.ndim == 1 and typed.dtype != object else out
    if kinds <= {"datetime64"} or kinds <= {"timedelta64"}:
        return np.asarray(list(values))
    return out


def as_labels(values, name="task_ids"):
    """``values`` as a 1-D array of task labels; missing labels raise, named with rows."""
    if isinstance(values, (list, tuple)):
        if any(isinstance(v, (list, np.ndarray, dict, set)) for v in values):
            raise ValueError(
                f"{name} must be 1-D, one hashable task label per row; got a list of lists "
                "or arrays. (Labels that are tuples are allowed: pass a list of tuples.)"
            )
        labels = _from_sequence(values)
    else:
        if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
            values = values.to_numpy()  # pandas or polars: NA stays a missing value
        labels = np.asarray(values)
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, one task label per row, got shape {labels.shape}. (Labels "
            "that are tuples are allowed: pass them as a list of tuples.)"
        )
    missing = _missing_mask(labels)
    if missing.any():
        rows = np.flatnonzero(missing)
        where = ", ".join(str(k) for k in rows[:10])
        more = f", ... ({len(rows)} in all)" if len(rows) > 10 else ""
        raise ValueError(
            f"a task label is missing (None, NaN or NA) in {name}, at position"
            f"{'s' if len(rows) > 1 else ''} {where}{more}: "
            "every row needs a task label. Drop these rows, or give them a label."
        )
    return labels


def _missing_mask(labels):
    kind = labels.dtype.kind
    if kind in "fc":
        return np.isnan(labels)
    if kind in "mM":
        return np.isnat(labels)
    if kind == "O" and labels.size:
        return np.frompyfunc(is_missing, 1, 1)(labels).astype(bool)
    return np.zeros(labels.shape, dtype=bool)


def _mixed_types_error(labels):
    kinds = sorted({_kind(v) for v in labels.tolist()})
    what = f"of mixed types ({', '.join(kinds)})" if len(kinds) > 1 else f"of type {kinds[0]}"
    return ValueError(
        f"task labels {what} cannot be sorted; pass tasks=[...] to fix the order of the tasks."
    )


def _check_equal_labels_of_other_types(labels, uniq, inverse):
    """Labels such as True and 1, or 1 and 1.0, are equal in Python, so they would be one
    task: an error that names them, not a silent merge (object arrays only)."""
    kinds = {}
    for k, value in zip(inverse.tolist(), labels.tolist(), strict=True):
        kinds.setdefault(k, {}).setdefault(_kind(value), value)
    for values in kinds.values():
        if len(values) > 1:
            a, b = list(values.values())[:2]
            raise ValueError(
                f"task labels {a!r} and {b!r} are equal in Python ({type(a).__name__} and "
                f"{type(b).__name__}) and would be one task; give the tasks labels of one type."
            )


def unique_labels(labels, *, sort=True):
    """(distinct labels, position of each row's label among them).

    Sorted when ``sort`` (an error for labels of types that cannot be compared, or whose
    order is not total, as for sets); else sorted when they can be, and in order of first
    appearance when they cannot.
    """
    labels = np.asarray(labels)  # checked by as_labels
    if labels.dtype.kind in "iu" and labels.size:
        small = _small_int_labels(labels)
        if small is not None:
            return small
    try:
        uniq, inverse = np.unique(labels, return_inverse=True)
        # a partial order (sets) sorts into runs that repeat labels: not a valid sort
        if labels.dtype == object and len({*uniq.tolist()}) != len(uniq):
            raise TypeError("labels without a total order")
    except TypeError:
        if sort:
            raise _mixed_types_error(labels) from None
    else:
        if labels.dtype == object:
            _check_equal_labels_of_other_types(labels, uniq, inverse.ravel())
        return uniq, inverse.ravel()
    first, inverse = {}, np.empty(len(labels), dtype=np.int64)
    for i, value in enumerate(labels.tolist()):
        inverse[i] = first.setdefault(value, len(first))
    starts = np.unique(inverse, return_index=True)[1]  # first row of each label
    return labels[starts], inverse


def _small_int_labels(labels):
    """``np.unique(labels, return_inverse=True)`` of integer labels within a range of about
    their number (task ids 0..T-1), by counting instead of sorting; None for other ranges."""
    low, high = int(labels.min()), int(labels.max())
    if high - low > 2 * labels.size + 1024:
        return None
    if low == 0:  # every label is its own position when all of 0..high occur
        inverse = labels.astype(np.intp)  # a copy: the caller's array stays its own
        present = np.bincount(inverse, minlength=high + 1) > 0
        if present.all():
            return np.arange(high + 1, dtype=labels.dtype), inverse
        offset = inverse
    else:
        offset = (labels - labels.dtype.type(low)).astype(np.intp)  # in 0..high - low
        present = np.bincount(offset, minlength=high - low + 1) > 0
    position = np.cumsum(present) - 1  # position of each value among the distinct ones
    values = np.flatnonzero(present).astype(labels.dtype) + labels.dtype.type(low)
    return values, position[offset]


def sorted_labels(labels, return_inverse=False):
    """Sorted distinct labels (and the position of each label among them)."""
    uniq, inverse = unique_labels(as_labels(labels))
    return (uniq, inverse) if return_inverse else uniq


def _keys(labels, other):
    """Hashable keys of ``labels`` that match equal labels of ``other`` (dates in any unit)."""
    if labels.dtype.kind in "mM" and other.dtype.kind == labels.dtype.kind:
        common = np.promote_types(labels.dtype, other.dtype)  # the finer unit: exact
        return labels.astype(common).view(np.int64).tolist()
    return labels.tolist()


def _positions(task_ids, tasks):
    """Whether the integer ``task_ids`` are positions in ``tasks = 0, 1, ..., T - 1``."""
    if tasks.dtype.kind not in "iu" or task_ids.dtype.kind not in "iu" or not task_ids.size:
        return False
    if tasks.ndim != 1 or not np.array_equal(tasks, np.arange(len(tasks))):
        return False
    return 0 <= task_ids.min() and task_ids.max() < len(tasks)


def encode_tasks(task_ids, tasks, *, unseen="error", hint=""):
    """Integer positions of ``task_ids`` in ``tasks``.

    A label not in ``tasks`` raises a ValueError that names it (``hint`` says what to do),
    or, with ``unseen="population"``, gets the position ``len(tasks)``.
    """
    task_ids = as_labels(task_ids)
    tasks = np.asarray(tasks)
    if _positions(task_ids, tasks):  # tasks 0..T-1, integer ids among them: no lookup
        return task_ids.astype(np.int64)
    index = {key: k for k, key in enumerate(_keys(tasks, task_ids))}
    uniq, inverse = unique_labels(task_ids, sort=False)
    codes = np.array([index.get(key, -1) for key in _keys(uniq, tasks)], dtype=np.int64)
    unknown = codes < 0
    if unknown.any():
        if unseen != "population":
            raise ValueError(
                f"unknown task labels {show_labels(uniq[unknown])}: the model never saw these "
                f"tasks (they are not in its training data, graph or tasks); it knows "
                f"{show_labels(tasks)}.{hint}"
            )
        codes[unknown] = len(tasks)
    return codes[inverse]


PREDICT_HINT = (
    " If these rows come from a cross-validation split that holds whole tasks out, use a "
    "task-stratified splitter (mtreg.TaskStratifiedKFold) so that every task is in every "
    "training fold; or set unseen_tasks='population' to predict tasks never seen with the "
    "population model."
)


def _natural_key(value):
    if isinstance(value, np.generic) and not isinstance(value, _DATES):
        value = value.item()
    if isinstance(value, numbers.Real):
        return (0, value)
    if isinstance(value, str):
        parts = re.split(r"(\d+)", value)  # text, digits, text, ...: the same type per place
        return (1, tuple(int(p) if k % 2 else p for k, p in enumerate(parts)))
    if isinstance(value, _DATES):
        return (2, str(value))
    if isinstance(value, tuple):
        return (3, tuple(_natural_key(v) for v in value))
    return (4, type(value).__name__, repr(value))


def _display(value):
    if isinstance(value, _DATES):
        return str(value)  # 2020-01-01, not numpy.datetime64('2020-01-01')
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, tuple):
        return "(" + ", ".join(_display(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def show_labels(labels, limit=10):
    """The labels for a message: natural order, the first ``limit`` of them."""
    labels = list(labels)  # numpy scalars stay numpy scalars: dates show as dates
    try:
        labels = sorted(labels, key=_natural_key)
    except TypeError:
        labels = sorted(labels, key=repr)
    text = ", ".join(_display(x) for x in labels[:limit])
    return text + (f", ... ({len(labels)} in all)" if len(labels) > limit else "")
