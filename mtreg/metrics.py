"""Scorers that pass task ids to the model they score.

scikit-learn's scorers call ``estimator.predict(X)`` with no metadata (scikit-learn issue
#27977), so with metadata routing a multi-task model cannot tell which task each held-out
row belongs to, and every fold scores NaN. :func:`task_scorer` wraps a scorer name, a
``make_scorer`` scorer or a metric function into a scorer that requests ``task_ids`` (and
``sample_weight``) through routing and hands them on to ``predict``, ``predict_proba`` or
``decision_function``.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import signature
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import get_scorer
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.multiclass import type_of_target

__all__ = ["TaskScorer", "task_scorer"]

# the responses whose columns are the estimator's classes_ (a metric with ``labels`` is told)
_CLASS_SCORES = ("predict_proba", "predict_log_proba", "decision_function")


def _accepts(func, name):
    try:
        return name in signature(func).parameters
    except (TypeError, ValueError):  # a builtin or a C function without a signature
        return False


def _name(func):
    return getattr(func, "__name__", None) or repr(func)


class TaskScorer:
    """A scorer ``scorer(estimator, X, y_true, sample_weight=None, task_ids=None)``.

    Computes ``sign * score_func(y_true, response, **kwargs)``, with ``response`` the output
    of the first method of ``response_method`` that the estimator has, called as
    ``method(X, task_ids=task_ids)`` when task ids are given and as ``method(X)`` when not
    (a model with a ``task_column`` reads them from X). As in scikit-learn, a binary
    classifier's ``predict_proba`` is reduced to the column of the positive class and its
    ``decision_function`` is negated when the positive class is ``classes_[0]``. A metric
    that takes ``labels`` (``log_loss``, ``roc_auc_score``...) is given the estimator's
    ``classes_`` with class scores, so that a fold missing a class is scored against the
    right columns. A metric that takes ``sample_weight`` is given the sample weights.

    Build it with :func:`task_scorer`.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, response, **kwargs)``.
    sign : {1, -1}, default=1
        -1 for a loss (lower is better): the scorer returns ``-score_func(...)``.
    response_method : str or tuple of str, default="predict"
        The estimator method to call, or methods to try in order.
    kwargs : dict, default=None
        Further keyword arguments of ``score_func``.

    See Also
    --------
    task_scorer : Build a TaskScorer from a scorer name, a scorer or a metric.
    sklearn.metrics.make_scorer : A scikit-learn scorer, which does not pass task ids on.

    Notes
    -----
    Metadata routing: the scorer requests ``task_ids`` and, if ``score_func`` takes it,
    ``sample_weight`` (``set_score_request`` changes that, e.g.
    ``set_score_request(sample_weight=False)``). It does not rely on scikit-learn's private
    scorer classes: it is a callable with ``get_metadata_routing`` and
    ``set_score_request``, which is all routing asks of a scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import mean_absolute_error
    >>> from mtreg import MultiTaskGraphRegressor
    >>> from mtreg.metrics import TaskScorer
    >>> X, t = np.arange(8.0).reshape(4, 2), np.array(["a", "a", "b", "b"])
    >>> est = MultiTaskGraphRegressor().fit(X, X[:, 0], task_ids=t)
    >>> scorer = TaskScorer(mean_absolute_error, sign=-1)
    >>> score = scorer(est, X, X[:, 0], task_ids=t)
    >>> bool(score == -mean_absolute_error(X[:, 0], est.predict(X, task_ids=t)))
    True
    """

    def __init__(self, score_func, *, sign=1, response_method="predict", kwargs=None):
        self._score_func = score_func
        self._sign = sign
        self._response_method = response_method
        self._kwargs = dict(kwargs or {})
        self._requests = {"task_ids": True}
        if self._accept_sample_weight():
            self._requests["sample_weight"] = True

    def __call__(self, estimator, X, y_true, sample_weight=None, task_ids=None, **kwargs):
        """Score ``estimator`` on ``(X, y_true)``.

        Parameters
        ----------
        estimator : object
            A fitted model (or pipeline ending in one).
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the metric (which must take ``sample_weight``).
        task_ids : array-like of shape (n_samples,), default=None
            Passed to the estimator's prediction method; None calls it without them.
        **kwargs : dict
            Further metadata, passed to the metric.

        Returns
        -------
        score : float
        """
        predict_kw = {} if task_ids is None else {"task_ids": task_ids}
        response, name = self._response(estimator, X, predict_kw)
        metric_kw = {**self._kwargs, **kwargs}
        if sample_weight is not None:
            metric_kw["sample_weight"] = sample_weight
        if (
            name in _CLASS_SCORES
            and "labels" not in metric_kw
            and hasattr(estimator, "classes_")
            and _accepts(self._score_func, "labels")
        ):
            metric_kw["labels"] = estimator.classes_
        return self._sign * self._score_func(y_true, response, **metric_kw)

    def _response(self, estimator, X, predict_kw):
        """(the response of the estimator, the name of the method that gave it)."""
        names = (
            [self._response_method]
            if isinstance(self._response_method, str)
            else list(self._response_method)
        )
        name = next((n for n in names if hasattr(estimator, n)), None)
        if name is None:
            raise AttributeError(
                f"{type(estimator).__name__} has none of the following attributes: "
                f"{', '.join(names)}."
            )
        response = getattr(estimator, name)(X, **predict_kw)
        if name not in _CLASS_SCORES or not is_classifier(estimator):
            return response, name
        classes = np.asarray(estimator.classes_)
        if type_of_target(classes) != "binary":
            return response, name
        pos_label = self._pos_label()
        if pos_label is None:
            pos_label = classes[-1]
        elif pos_label not in classes.tolist():
            raise ValueError(
                f"pos_label={pos_label} is not a valid label: It should be one of {classes}"
            )
        if name == "decision_function":
            return (-response if pos_label == classes[0] else response), name
        if response.shape[1] < 2:
            raise ValueError(
                f"Got {name} of shape {response.shape}, but need a classifier with two classes."
            )
        return response[:, np.flatnonzero(classes == pos_label)[0]], name

    def _pos_label(self):
        if "pos_label" in self._kwargs:
            return self._kwargs["pos_label"]
        try:
            parameter = signature(self._score_func).parameters.get("pos_label")
        except (TypeError, ValueError):
            return None
        return None if parameter is None else parameter.default

    def _accept_sample_weight(self):
        """Whether the metric takes sample weights (scikit-learn asks this when routing is
        off, to decide whether to pass ``sample_weight`` on)."""
        return _accepts(self._score_func, "sample_weight")

    def set_score_request(self, **requests: bool | str | None) -> TaskScorer:
        """Set which metadata the scorer asks routing for.

        Parameters
        ----------
        **requests : dict of {str: bool, None or str}
            ``param=True`` requests it, ``False`` or ``None`` does not, a string requests
            it under that alias. By default ``task_ids=True`` and, when the metric takes
            it, ``sample_weight=True``.

        Returns
        -------
        self : TaskScorer
            The scorer, with its requests updated.
        """
        self._requests.update(requests)
        return self

    def get_metadata_routing(self) -> MetadataRequest:
        """Return the metadata this scorer requests, as scikit-learn's routing reads it.

        Returns
        -------
        routing : MetadataRequest
            The requests of the ``score`` method: ``task_ids`` and, when the metric takes
            it, ``sample_weight``, as changed by :meth:`set_score_request`.
        """
        request = MetadataRequest(owner=type(self).__name__)
        for param, alias in self._requests.items():
            request.score.add_request(param=param, alias=alias)
        return request

    def __repr__(self):
        parts = [_name(self._score_func)]
        if self._sign < 0:
            parts.append("greater_is_better=False")
        parts.append(f"response_method={self._response_method!r}")
        parts += [f"{k}={v!r}" for k, v in self._kwargs.items()]
        return f"task_scorer({', '.join(parts)})"

    def _routing_repr(self):
        return repr(self)


def _scorer_parts(scorer):
    """(score_func, sign, response_method, kwargs) of a scikit-learn scorer object.

    These attributes of sklearn.metrics._scorer._Scorer are the same from scikit-learn 1.4
    (which gave every scorer a ``_response_method``) to 1.9; a scorer without them is
    refused rather than guessed at.
    """
    try:
        return (
            scorer._score_func,
            scorer._sign,
            scorer._response_method,
            scorer._kwargs,
        )
    except AttributeError:
        return None


def task_scorer(
    scoring: str | Callable,
    *,
    greater_is_better: bool = True,
    response_method: str = "predict",
    **kwargs: Any,
) -> TaskScorer:
    """Make a scorer that passes ``task_ids`` (and ``sample_weight``) on to the model.

    Use it wherever scikit-learn takes ``scoring=`` when task ids reach the model through
    metadata routing: a named scorer there cannot pass them on to ``predict``, so it
    scores NaN. With a ``task_column`` model (routing off, or no ``task_ids`` given) the
    task scorer calls ``predict(X)`` as any scorer does, and scores the same.

    Parameters
    ----------
    scoring : str, scorer or callable
        - a scorer name (``"r2"``, ``"neg_mean_squared_error"``, ``"roc_auc_ovr"``,
          ``"neg_log_loss"``, ...; see ``sklearn.metrics.get_scorer_names()``);
        - a scorer made by ``sklearn.metrics.make_scorer`` (its metric, sign, response
          method and keyword arguments are taken over);
        - a metric function ``metric(y_true, y_pred, **kwargs)``, or a :class:`TaskScorer`
          (returned as is).
    greater_is_better : bool, default=True
        For a metric function only: False for a loss (the scorer returns its negative).
    response_method : str or tuple of str, default="predict"
        For a metric function only: the estimator method to call, or methods to try in
        order (e.g. ``("decision_function", "predict_proba")``).
    **kwargs : dict
        For a metric function only: further keyword arguments of the metric.

    Returns
    -------
    scorer : TaskScorer
        ``scorer(estimator, X, y_true, sample_weight=None, task_ids=None)``; requests
        ``task_ids`` and, when the metric takes it, ``sample_weight`` through routing.

    See Also
    --------
    TaskScorer : The scorer returned.
    sklearn.metrics.get_scorer : The named scikit-learn scorers.
    sklearn.metrics.make_scorer : A scorer from a metric, without task ids.

    Notes
    -----
    The task ids go to ``estimator.predict(X, task_ids=...)`` (or ``predict_proba``,
    ``decision_function``): a Pipeline passes them on to its last step when that step
    requests them, ``set_predict_request(task_ids=True)`` (and
    ``set_predict_proba_request`` / ``set_decision_function_request`` for a classifier's
    class scores). A plain scorer function ``f(estimator, X, y)`` is not a metric: wrap its
    metric instead. See ``docs/sklearn_tools.md`` for the tools that cannot route.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.model_selection import GridSearchCV
    >>> from mtreg import MultiTaskGraphRegressor
    >>> from mtreg.metrics import task_scorer
    >>> rng = np.random.default_rng(0)
    >>> X, t = rng.normal(size=(60, 3)), np.repeat(["a", "b", "c"], 20)
    >>> y = X @ [1.0, 2.0, 3.0] + (t == "c") + 0.1 * rng.normal(size=60)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     est = MultiTaskGraphRegressor().set_fit_request(task_ids=True)
    ...     search = GridSearchCV(est, {"alpha": [0.1, 10.0]},
    ...                           scoring=task_scorer("neg_mean_squared_error"))
    ...     search = search.fit(X, y, task_ids=t)
    >>> bool(np.isfinite(search.cv_results_["mean_test_score"]).all())
    True
    """
    if isinstance(scoring, TaskScorer):
        return scoring
    options = {"greater_is_better": greater_is_better, "response_method": response_method}
    if isinstance(scoring, str):
        scoring = get_scorer(scoring)
    elif not callable(scoring):
        raise TypeError(
            f"scoring must be a scorer name, a scorer made by make_scorer or a metric "
            f"function, got {scoring!r}."
        )
    parts = _scorer_parts(scoring)
    if parts is None:  # a metric function
        _check_metric_signature(scoring)
        return TaskScorer(
            scoring,
            sign=1 if greater_is_better else -1,
            response_method=response_method,
            kwargs=kwargs,
        )
    if kwargs or options != {"greater_is_better": True, "response_method": "predict"}:
        raise TypeError(
            f"{scoring!r} is a scorer: greater_is_better, response_method and metric "
            "arguments are already set in it; pass them only with a metric function."
        )
    score_func, sign, method, scorer_kwargs = parts
    return TaskScorer(score_func, sign=sign, response_method=method, kwargs=scorer_kwargs)


def _check_metric_signature(metric):
    """A scorer-style callable (estimator, X, y) taken for a metric (y_true, y_pred) would
    score every fold NaN; refuse it by the name of its first parameter."""
    try:
        first = next(iter(signature(metric).parameters), None)
    except (TypeError, ValueError):  # builtins without a signature
        return
    if first in ("estimator", "est", "model", "clf", "reg", "regressor", "classifier"):
        raise TypeError(
            f"task_scorer takes a metric function metric(y_true, y_pred) or a scorer made "
            f"by make_scorer, but {metric!r} takes {first!r} first, like a scorer "
            "(estimator, X, y); wrap its metric with make_scorer, or pass the metric itself."
        )
