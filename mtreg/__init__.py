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
