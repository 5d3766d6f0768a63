"""Parameter and attribute texts shared by several estimators' docstrings (numpydoc
entries, formatted into the docstrings where they name ``{...}``)."""

GRAPH_PARAMS_DOC = """\
graph_params : dict, default=None
        Options of the graphs built in fit. "knn" and "similarity": ``method`` ("coef" or
        "distribution"), ``metric``, ``sigma``, ``l2`` of
        :func:`mtreg.relations.task_similarity`, and ``n_neighbors`` (default
        min(5, T - 1)), ``mode``, ``threshold``, ``weighted`` of
        :func:`mtreg.relations.similarity_graph`. "learn": ``epsilon`` (1e-3), ``max_iter``
        (200 alternations), ``tol`` (1e-6, on the relative decrease of the objective per
        alternation). A smaller ``epsilon`` (the smoothing of Omega, in units of the
        squared coefficients) makes Omega closer to singular and the alternation slower."""

PER_FEATURE_ALPHA_DOC = """\
An array of shape (n_features,) gives each feature its own coupling: the
        penalty is then ``sum_j alpha_j * w_{:,j}^T L w_{:,j}`` (``alpha_j = 0``: feature
        j is fitted per task; a large ``alpha_j``: one value shared by linked tasks). Every
        solver but "eigen" takes it ("auto" passes over "eigen"; asking for "eigen" is a
        ValueError). An array of one value is that float."""

PER_FEATURE_L2_DOC = """\
An array of shape (n_features,) gives each feature its own ridge penalty,
        ``sum_j l2_j * ||w_{:,j}||^2``; every solver takes it. ``l2_j = 0`` needs the data
        (or, with ``alpha_j > 0``, the coupling to tasks with data) to determine feature j
        (a ``SingularProblemError`` says when they do not); with a per-feature alpha or l2
        nearly undetermined directions are not projected out, the system is solved as it
        is. An array of one value is that float."""

PER_FEATURE_DOCS = dict(per_feature_alpha=PER_FEATURE_ALPHA_DOC, per_feature_l2=PER_FEATURE_L2_DOC)


def fill_doc(doc, **fields):
    """``doc`` with each ``{name}`` replaced by ``fields[name]`` (other braces kept); None,
    a docstring stripped by ``python -OO``, stays None."""
    if doc is None:
        return None
    for name, text in fields.items():
        doc = doc.replace("{" + name + "}", text)
    return doc


def format_doc(doc, **fields):
    """``doc.format(**fields)``; None (``python -OO``) stays None."""
    return None if doc is None else doc.format(**fields)


LINEAR_SOLVER_DOC = """\
solver : {"auto", "cholesky", "woodbury", "eigen", "pcg", "newton", "lbfgs", \
            "fista"}, default="auto"
        - "cholesky": dense Cholesky of the (T d) x (T d) system.
        - "woodbury": complete graph with equal weights (the default) or no graph; T
          solves of size d and one of size d.
        - "eigen": multi-output y (every task at the same X); eigendecompositions of
          X^T X and L, O(n d^2 + d^3 + T^3).
        - "pcg": block-Jacobi preconditioned conjugate gradient for sparse graphs and
          many tasks; never forms the (T d) x (T d) system.
        - "newton", "lbfgs", "fista": the iterative solvers of
          :class:`MultiTaskGraphClassifier`; "fista" is the one for ``l1 > 0``.
        - "auto": "fista" when ``l1 > 0``; else "eigen" for multi-output data, else
          "woodbury" when it applies, else "cholesky" for T d <= 500, else "pcg"; but
          "lbfgs" when the d x d moments of these would take more than 2 GiB (sparse X
          with very many columns). An explicit solver whose dense arrays would exceed
          2 GiB raises a MemoryError that names the size."""

KERNEL_DOC = """\
kernel : str or callable, default="{default}"
        The input kernel k: a name of ``sklearn.metrics.pairwise.PAIRWISE_KERNEL_FUNCTIONS``
        ("rbf", "linear", "poly", "laplacian", ...), a callable taking two rows x and z and
        returning a number (as ``pairwise_kernels`` calls it; scikit-learn Gaussian-process
        kernel objects also work), or "precomputed": X is then the matrix k(X, X_fit) itself
        (n_samples x n_samples at fit) and task labels come from ``task_ids``. Precomputed,
        callable and other not-necessarily-PSD kernels ("poly", "sigmoid", "additive_chi2")
        are checked to be symmetric positive semi-definite at fit."""

SVM_COMMON_DOC = """\
{graph}

    alpha : float, default=1.0
        Strength of the graph coupling. Non-negative.

    l2 : float, default=1.0
        Ridge penalty on every w_t. Must be positive (E is singular otherwise).

    laplacian : {{"unnormalized", "normalized"}}, default="unnormalized"
        ``L = D - A``, or the normalised ``I - D^-1/2 A D^-1/2``.

    {kernel}

    degree : int, default=3
        Degree of the "poly" kernel.

    gamma : {{"scale", "auto"}} or float, default="scale"
        Parameter of "rbf", "poly", "sigmoid", "laplacian" and "chi2": "scale" is
        1 / (n_features * X.var()), "auto" 1 / n_features, as in ``sklearn.svm``.

    coef0 : float, default=0.0
        Constant term of "poly" and "sigmoid".

    kernel_params : dict, default=None
        Keyword arguments of a callable kernel.

    C : float, default=1.0
        Weight of the loss (see the objective); with one task, ``SVC(C=C / l2)``."""

LIBSVM_DOC = """\
tol : float, default=1e-3
        The stopping tolerance of libsvm (on the violation of its optimality conditions).

    shrinking : bool, default=True
        Whether libsvm uses the shrinking heuristic (see ``sklearn.svm.SVC``).

    cache_size : float, default=200
        Size of libsvm's kernel cache, in MB.

    verbose : bool, default=False
        Print libsvm's progress.

    max_iter : int, default=-1
        Iteration cap of libsvm; -1 for none."""

SVM_TASKS_DOC = """\
tasks : array-like of shape (n_tasks,), default=None
        The task labels and their order; tasks without training rows are allowed.

    task_column : int or str, default=None
        Read the task labels from this column of X (not with ``kernel="precomputed"``).

    {unseen}"""

SVM_ATTRIBUTES_DOC = """\
svm_ : sklearn.svm.SVC or SVR
        The libsvm model fitted on the multi-task Gram matrix (``kernel="precomputed"``).
    support_ : ndarray of shape (n_SV,)
        Indices of the support vectors among the training rows (all the rows given to
        fit; rows of weight 0 are never support vectors: they are left out of the fit,
        which is then the fit without them).
    dual_coef_ : ndarray
        Dual coefficients of the support vectors (as in ``sklearn.svm``).
    intercept_ : ndarray
        libsvm's intercept b, shared by all tasks.
    X_fit_ : ndarray or sparse matrix of shape (n_samples, n_features)
        Training inputs of positive weight (their kernel matrix with
        ``kernel="precomputed"``).
    task_kernel_ : ndarray of shape (n_tasks, n_tasks)
        ``inv(alpha L + l2 I)``.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, in the order of the rows of ``task_kernel_`` and of the graph.
    graph_ : TaskGraph
        The validated graph (labels, adjacency, Laplacian kind).
    n_iter_ : ndarray
        libsvm iterations.
    fit_status_ : int
        0 if libsvm fitted correctly, 1 otherwise (as in ``sklearn.svm``).
    n_features_in_ : int
        Number of columns of X seen in fit (including ``task_column``).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of X, when X has them."""
