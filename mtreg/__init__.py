"""mtreg: graph-regularised multi-task learning, scikit-learn style."""

from .linear import MultiTaskGraphClassifier, MultiTaskGraphRegressor
from .model_selection import TaskStratifiedKFold

__version__ = "0.1.0.dev0"

__all__ = [
    "MultiTaskGraphClassifier",
    "MultiTaskGraphRegressor",
    "TaskStratifiedKFold",
    "__version__",
]

# kernels, kernel machines and model selection (issue 4)
from .kernel import MultiTaskKernelRidge, multitask_kernel  # noqa: E402
from .model_selection import (  # noqa: E402
    LeaveTasksOut,
    MultiTaskGraphRegressorCV,
    MultiTaskKernelRidgeCV,
)
from .svm import MultiTaskSVC, MultiTaskSVR  # noqa: E402

__all__ += [
    "LeaveTasksOut",
    "MultiTaskGraphRegressorCV",
    "MultiTaskKernelRidge",
    "MultiTaskKernelRidgeCV",
    "MultiTaskSVC",
    "MultiTaskSVR",
    "multitask_kernel",
]

# empirical Bayes (issue 14)
from .bayes import BayesianMultiTaskGraphRegressor  # noqa: E402

__all__ += ["BayesianMultiTaskGraphRegressor"]
