"""mtreg: graph-regularised multi-task learning, scikit-learn style."""

from .linear import MultiTaskGraphRegressor
from .model_selection import TaskStratifiedKFold

__version__ = "0.1.0.dev0"

__all__ = ["MultiTaskGraphRegressor", "TaskStratifiedKFold", "__version__"]
