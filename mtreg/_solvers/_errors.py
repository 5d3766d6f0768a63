"""The errors the solvers raise."""


class SingularProblemError(ValueError):
    """The normal equations are singular: J has no unique minimiser."""


def singular_message(alpha, l2):
    """The words of a :class:`SingularProblemError` for the penalties (alpha, l2)."""
    return (
        f"the problem is singular (alpha={_show_penalty(alpha)}, l2={_show_penalty(l2)}): "
        "some direction of the coefficients is penalised by nothing and determined by no "
        "data (for example a task with fewer rows than features, or with no rows and no "
        "neighbours). "
        "Set l2 > 0, or give such tasks neighbours in the graph."
    )


def _show_penalty(value):
    """A float as itself; a per-feature array by its range."""
    if getattr(value, "ndim", 0) == 0:
        return value
    return f"per feature in [{value.min():g}, {value.max():g}]"
