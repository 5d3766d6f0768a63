"""mtreg: graph-regularised multi-task learning, scikit-learn style."""

from .linear import MultiTaskGraphRegressor

__version__ = "0.1.0.dev0"

__all__ = ["MultiTaskGraphRegressor", "__version__"]
