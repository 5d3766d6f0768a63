"""The maximisation of the log evidence F (:mod:`mtreg._evidence`) over the logs of the free
hyper-parameters: L-BFGS-B with the exact gradient, and the precisions that run to
infinity (variance components going to zero: a singular fit of the mixed model) pinned
there.

Near that boundary F is linear in the variance v = 1 / alpha, F = F_inf - c v, so that
dF/dlog alpha = c v = F_inf - F: flat in log alpha, where a quasi-Newton step gains about a
factor e in v per iteration (school with all 22 slopes: 20 of L-BFGS-B's 44 iterations
spent with 0.06 of F left). With ``boundary``, a parameter that is heading there for
:data:`STREAK` iterations in a row (it grows, F rises with it, and the line through the
last two values of dF/dv keeps its sign down to v = 0) is tried where the linear model
leaves :data:`DEFICIT` of L-BFGS-B's gtol of F (about where the crawl would have ended):
pinned there when F gains what the linear model predicts (within :data:`GAIN`), its
derivative then held at 0 while L-BFGS-B goes on with its memory (a restart cost more
iterations than it saved). At the end the KKT condition of the pinned parameters is
checked :data:`BACK` below their pins (together: one evaluation): those whose derivative
asks for variance are released for good, and the search goes on from there.
"""

import numpy as np
from scipy.optimize import minimize

from ._evidence import EvidenceError

TAU = 2.0  # a parameter is a candidate beyond e^2 times its start ...
STEP = 0.1  # ... when its last step took it at least this far out (in log)
HOLD = 0.5  # ... dF/dv extrapolated to v = 0 is at least this fraction of its value
STREAK = 2  # ... and it has been a candidate for this many iterations in a row
GAIN = (0.6, 1.5)  # the gain at the pin over the linear model's (quadratic in v: >= 0.5)
BACK = 4.0  # how far below its pin (in log) a pinned parameter's KKT condition is checked
CHECKS = 3  # checks that release only the parameters that fail them; the next releases all
DEFICIT = 1e-2  # of L-BFGS-B's gtol: F left by a pinned parameter (its dF/dlog there)


class _Search:
    """Minus F over the free log-parameters for L-BFGS-B, with its cache, the scores and
    the parameters pinned at the boundary (see the module docstring)."""

    def __init__(self, evidence, start, groups, log_range):
        self.evidence, self.start, self.groups = evidence, start, groups
        self.free = groups >= 0
        n_free = int(groups.max()) + 1 if self.free.any() else 0
        self.x0 = np.zeros(n_free)
        self.x0[groups[self.free]] = np.log(start[self.free])
        self.log_range, self.boundary = log_range, False
        self.pinned, self.streak = np.zeros(n_free, bool), np.zeros(n_free, np.int64)
        self.pins, self.deficit = np.zeros(n_free), np.inf
        self.barred = np.zeros(n_free, bool)  # released: not pinned again
        self.cache, self.scores, self.last = {}, [], None

    def values(self, x):
        """The (2, q) alpha and l2 at the log-parameters x, each clipped to log_range."""
        v = self.start.copy()
        x = np.clip(x, self.x0 - self.log_range, self.x0 + self.log_range)
        v[self.free] = np.exp(x[self.groups[self.free]])
        return v

    def evaluate(self, x):
        """(F, dF/dx, posterior); dF/dx is 0 beyond the clip, where F is constant."""
        v = self.values(x)
        F, g_alpha, g_l2, post = self.evidence(v[0], v[1])
        grad = np.vstack([g_alpha, g_l2]) * v
        grad = np.bincount(self.groups[self.free], grad[self.free], minlength=len(x))
        return F, np.where(np.abs(x - self.x0) > self.log_range, 0.0, grad), post

    def effective(self, x):
        return np.where(self.pinned, self.pins, x)

    def negative(self, x):
        """(-F, -dF/dx) at L-BFGS-B's x, the pinned parameters at their clip."""
        x, c = self.effective(x), self.cache
        if not (c and np.array_equal(x, c["x"])):
            try:
                F, grad, post = self.evaluate(x)
            except EvidenceError:
                if not c:  # at the start: the data themselves are at fault
                    raise
                return np.inf, np.zeros_like(x)  # a trial step too far: F = -inf there
            c.update(x=x, F=F, grad=grad, post=post)
        return -c["F"], -np.where(self.pinned, 0.0, c["grad"])

    def callback(self, x):
        F = -self.negative(x)[0]
        self.scores.append(F)
        if self.boundary and np.array_equal(self.effective(x), self.cache["x"]):
            self.pin()

    def pin(self):
        """Pin the parameters that run to the boundary, if F at their clip says so."""
        x, g = self.cache["x"], self.cache["grad"]
        (px, pg), self.last = self.last, (x, g)
        v, pv = np.exp(self.x0 - x), np.exp(self.x0 - px)  # variances / their start
        c, pc = g / v, pg / pv  # -dF/dv (times the start)
        with np.errstate(divide="ignore", invalid="ignore"):
            at_zero = c - v * (c - pc) / (v - pv)
        out = (x - self.x0 > TAU) & (x - px >= STEP) & (g > 0) & (pg > 0) & (at_zero >= HOLD * c)
        self.streak = np.where(out & ~self.pinned & ~self.barred, self.streak + 1, 0)
        trial = self.streak >= STREAK
        if not trial.any():
            return
        # where the linear model leaves DEFICIT of F: about where the crawl would end
        gap = np.log(np.maximum(g / self.deficit, 1.0))
        pins = np.where(trial, np.minimum(x + gap, self.x0 + self.log_range), x)
        try:
            F, grad, post = self.evaluate(pins)
        except EvidenceError:
            return
        gain, linear = F - self.cache["F"], (g * -np.expm1(x - pins))[trial].sum()
        if GAIN[0] * linear <= gain <= GAIN[1] * linear:
            self.pinned |= trial
            self.pins[trial] = pins[trial]
            self.cache.update(x=pins, F=F, grad=grad, post=post)

    def release(self, every=False):
        """Whether a pinned parameter asks for variance (KKT: dF/dlog < 0, beyond what a
        pin may leave) at :data:`BACK` below the pins; those are released (``every``:
        all are, and no more pinned) and the cache is moved to where they are."""
        x = np.where(self.pinned, self.pins - BACK, self.cache["x"])
        try:
            grad = self.evaluate(x)[1]
        except EvidenceError:
            return False
        back = self.pinned & (grad < -self.deficit)
        if not back.any():
            return False
        back = self.pinned.copy() if every else back
        self.pinned &= ~back
        self.barred |= back
        self.boundary = self.boundary and not every
        x = np.where(back, self.pins - BACK, self.cache["x"])
        F, grad, post = self.evaluate(x)
        self.cache.update(x=x, F=F, grad=grad, post=post)
        return True


def maximise_evidence(
    evidence, alpha, l2, groups, *, tol, max_iter, log_range=30.0, boundary=False
):
    """Maximise F over the log of the free hyper-parameters (L-BFGS-B, exact gradient).

    ``alpha``, ``l2`` (q,): the starting (and the fixed) values per coordinate; ``groups``
    (2, q) ints: the free parameter that sets alpha_k (row 0) and l2_k (row 1), -1 where
    fixed; each free log-parameter is clipped to ``log_range`` around its start (F is flat
    beyond, its gradient 0 there: L-BFGS-B's own bounds made its first step run to them,
    and it stopped there). ``boundary``: pin the precisions that run to infinity at their
    clip (module docstring), for an evidence that is exact out there. Returns (alpha, l2,
    F, posterior, scores, n_iter, problem): ``problem`` None at a maximum, else why
    L-BFGS-B stopped short of one (the warning).
    """
    search = _Search(evidence, np.vstack([alpha, l2]).astype(float), np.asarray(groups), log_range)
    if len(search.x0) == 0:
        F, _, _, post = evidence(search.start[0], search.start[1])
        return search.start[0], search.start[1], F, post, np.array([F]), 0, None
    x, n_iter, checks = search.x0, 0, 0
    search.scores.append(-search.negative(x)[0])
    search.last, search.boundary = (x, search.cache["grad"]), boundary
    gtol = 1e-4 + tol * abs(search.scores[0])
    search.deficit = DEFICIT * gtol
    while True:
        result = minimize(
            search.negative,
            x,
            jac=True,
            method="L-BFGS-B",
            callback=search.callback,
            options=dict(maxiter=max(max_iter - n_iter, 1), ftol=tol, gtol=gtol, maxcor=20),
        )
        n_iter += int(result.nit)
        search.negative(result.x)  # the cache at L-BFGS-B's answer (if not there already)
        if not (search.pinned.any() and n_iter < max_iter):
            break
        checks += 1
        if not search.release(every=checks > CHECKS):
            break
        x = search.cache["x"]
    v, post = search.values(search.cache["x"]), search.cache["post"]
    # data that the model fits exactly (sigma^2 -> 0) have no maximum: stopping there is
    # the answer, not a failure; nor is a line search that fails where F is flat to
    # rounding (a relative change of 1 % in any parameter changes F by < 1e-4)
    left = np.abs(result.jac).max()
    flat = left <= 1e-2 + 1e-9 * abs(result.fun)
    problem = None
    if not (result.success or post.exact or (result.status == 2 and flat)):
        problem = (
            f"stopped after {n_iter} iterations without converging; raise max_iter or tol"
            if result.status == 1
            else f"stopped after {n_iter} iterations where its line search failed, with a "
            f"derivative of F of {left:.3g} left (an ill-conditioned "
            "evidence); try standardised features or other starting values (alpha_init)"
        )
    return v[0], v[1], search.cache["F"], post, np.array(search.scores), n_iter, problem
