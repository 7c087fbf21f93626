"""First-order penalty method for bilevel problems (Kwon, Kwon, Wright & Nowak, ICLR 2024).

It minimizes the penalty function psi_sigma(x) = min_y {f + (g - g*)/sigma} (see
problems.penalty_bilevel) with gradients only, tracking two lower-level sequences:
y ~ argmin_Y (sigma f + g)(x, .) and z ~ argmin_Y g(x, .); then

    grad psi_sigma(x) ~ grad_x f(x, y) + (grad_x g(x, y) - grad_x g(x, z)) / sigma.

What was verified in the paper (abstract, reviews, summaries): the penalty function, psi_sigma <=
psi, the O(sigma) value and gradient gaps under the proximal error bound, sigma = O(eps), and
O(eps^-3) deterministic / O(eps^-7) stochastic oracle complexity (single loop under extra
assumptions: O(eps^-3) and O(eps^-5)).  Not verified: the appendix algorithms' exact step and
inner-loop schedules, momentum terms, and whether sigma is decreased along the run.  The two
forms below are the plain projected-gradient versions of those schemes with a fixed sigma.
"""
from __future__ import annotations

from algorithms.recording import Recorder, Recording
from problems.penalty_bilevel import check_sigma


def _identity(v):
    return v


def penalty_method(oracles, x0, y0, *, sigma: float, iterations: int, record, measure,
                   step_x: float, step_y: float, inner_steps: int = 0, project_y=None,
                   project_x=None, z0=None) -> Recording:
    """Projected first-order penalty method (double loop for inner_steps >= 1, single loop for 0).

    Problem class: f, g smooth (possibly nonconvex f), y in a closed convex set Y (``project_y``),
    the perturbed lower level sigma f + g satisfying the proximal error bound uniformly for small
    sigma; x in a closed convex X (``project_x``).
    Double loop (inner_steps = T >= 1), per outer iteration t:
        T times:  y <- P_Y(y - step_y (sigma grad_y f + grad_y g)(x_t, y)),
                  z <- P_Y(z - step_y grad_y g(x_t, z))        (warm-started; 3 oracle calls)
        x_{t+1} = P_X(x_t - step_x [grad_x f(x_t, y) + (grad_x g(x_t, y) - grad_x g(x_t, z)) / sigma])
                                                               (3 more calls).
    Single loop (inner_steps = 0): the three updates are taken jointly at (x_t, y_t, z_t), from the
    same three calls (1 upper + 2 lower gradients per iteration).
    Schedule: step_y ~ 1/L_g (the y-objective sigma f + g is (sigma L_f + L_g)-smooth, so the same
    step serves y and z); step_x ~ sigma / L_g is always safe (psi_sigma is O(L_g / sigma)-smooth
    without further structure; a sigma-free step needs smoothness uniform in sigma, which we did
    not verify in the paper); sigma = O(eps) turns an eps-stationary point of psi_sigma into an
    O(eps)-stationary point of psi (the O(sigma) gradient gap).  Oracle calls are deterministic (noise_std = 0 oracles) and counted by kind.
    """
    s = check_sigma(sigma)
    if inner_steps < 0:
        raise ValueError(f"inner_steps must be >= 0 (0: single loop), got {inner_steps}")
    proj_y = project_y or _identity
    proj_x = project_x or _identity
    rec = Recorder(record, iterations)
    x, y = x0, y0
    z = y0 if z0 is None else z0
    for t in range(iterations + 1):
        if rec.due(t):
            rec.record(t, oracles.for_record(x), **measure(x, y, z), **oracles.by_kind(x))
        if t == rec.last:
            break
        for _ in range(inner_steps):
            fy = oracles.upper_grad(x, y)[1]
            gy = oracles.lower_grad_y(x, y)
            gz = oracles.lower_grad_y(x, z)
            y, z = proj_y(y - step_y * (s * fy + gy)), proj_y(z - step_y * gz)
        fx, fy = oracles.upper_grad(x, y)
        # both lower gradients at one x: two counted calls, the level's x-only terms shared
        (gx_y, gy), (gx_z, gz) = oracles.lower_grads(x, (y, z))
        x_next = proj_x(x - step_x * (fx + (gx_y - gx_z) / s))
        if inner_steps == 0:
            y, z = proj_y(y - step_y * (s * fy + gy)), proj_y(z - step_y * gz)
        x = x_next
    return rec.result(x=x, y=y, z=z)
