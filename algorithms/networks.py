"""Small fully connected networks, batched over trials, with hand-derived derivatives.

Problem class: empirical risk L(theta) = (1/n) sum_i l(f(x_i; theta), y_i) of a network with one
or two hidden layers, f(x) = W_L^T s(... s(W_1^T x + b_1) ...) + b_L, s = relu or tanh (losses in
algorithms.losses).  Parameters are ONE flat vector per trial, theta (R, P); an
:class:`Architecture` knows the layer shapes and slices and builds per-layer views.  Trials run in
lockstep: X is shared (n, d) or per trial (R, n, d), and every layer is one batched matmul.

Provided: outputs (logits), mean loss and gradient (backpropagation), the exact Hessian-vector
product by Pearlmutter's R-operator, and its two parts, Gauss-Newton J^T l'' J v and the residual
(H - GN) v, as separate operators.  Array-API generic; the dtype follows theta and X.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from array_api_compat import array_namespace, device as array_device

from algorithms.losses import get_loss

ACTIVATIONS = ("relu", "tanh")


@dataclass(frozen=True)
class Layer:
    """One affine layer: fan_in -> fan_out; ``weight``/``bias`` are slices of the flat vector
    (None: absent or fixed); ``hidden``: followed by the activation."""

    fan_in: int
    fan_out: int
    weight: slice | None
    bias: slice | None
    hidden: bool


@dataclass(frozen=True)
class Architecture:
    """d_in -> widths (1 or 2 hidden layers) -> d_out, activation relu|tanh, optional biases.

    ``fixed_output``: the output layer is not trained and has no bias; its weights are
    a_j = +1/sqrt(m) for j < ceil(m/2) and -1/sqrt(m) otherwise (Xu et al., ICLR 2024; d_out = 1).
    Flat layout: per trained layer, W (fan_in x fan_out, row-major) then b.
    """

    d_in: int
    widths: tuple[int, ...]
    d_out: int = 1
    activation: str = "relu"
    bias: bool = True
    fixed_output: bool = False

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if len(self.widths) not in (1, 2) or min(self.widths) < 1:
            raise ValueError(f"1 or 2 hidden layers of positive width, got {self.widths}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.fixed_output and self.d_out != 1:
            raise ValueError("a fixed output layer is defined for d_out = 1")

    @property
    def layers(self) -> list[Layer]:
        sizes = (self.d_in, *self.widths, self.d_out)
        out, start = [], 0
        for i in range(len(sizes) - 1):
            hidden = i < len(sizes) - 2
            if not hidden and self.fixed_output:
                out.append(Layer(sizes[i], sizes[i + 1], None, None, False))
                continue
            w = slice(start, start + sizes[i] * sizes[i + 1])
            start = w.stop
            b = None
            if self.bias:
                b = slice(start, start + sizes[i + 1])
                start = b.stop
            out.append(Layer(sizes[i], sizes[i + 1], w, b, hidden))
        return out

    @property
    def n_params(self) -> int:
        """P, the length of the flat parameter vector."""
        return max([s.stop for lay in self.layers for s in (lay.weight, lay.bias) if s] + [0])

    def views(self, theta, *, direction: bool = False):
        """[(W (R, fan_in, fan_out), b (R, fan_out) | None)] per layer, views of theta (R, P).

        A fixed layer gives its constant weights (fan_in, fan_out), or (None, None) when theta is
        a ``direction`` (a tangent vector has no component along fixed weights)."""
        xp = array_namespace(theta)
        R = theta.shape[0]
        out = []
        for lay in self.layers:
            if lay.weight is None:
                out.append((None, None) if direction else
                           (fixed_output_weights(self, xp, theta.dtype, array_device(theta)), None))
                continue
            W = xp.reshape(theta[:, lay.weight], (R, lay.fan_in, lay.fan_out))
            out.append((W, theta[:, lay.bias] if lay.bias is not None else None))
        return out

    def flatten(self, pieces):
        """Inverse of :meth:`views` for trained layers: [(gW, gb)] -> (R, P)."""
        xp = array_namespace(*[p for pair in pieces for p in pair if p is not None])
        flat = []
        for lay, (gW, gb) in zip(self.layers, pieces):
            if lay.weight is None:
                continue
            flat.append(xp.reshape(gW, (gW.shape[0], -1)))
            if lay.bias is not None:
                flat.append(gb)
        return xp.concat(flat, axis=-1)


def fixed_output_weights(arch: Architecture, xp, dtype, device=None):
    """The fixed second layer (m, 1): +1/sqrt(m) on the first ceil(m/2) units, -1/sqrt(m) after."""
    m = arch.widths[-1]
    negative = xp.astype(xp.arange(m, device=device) >= (m + 1) // 2, dtype)
    return xp.reshape((1.0 - 2.0 * negative) / math.sqrt(m), (m, 1))


def init_params(arch: Architecture, rngs, *, scheme: str = "he", init_scale: float = 1.0):
    """Initial flat parameters (R, P) as a host numpy array, one numpy Generator per trial.

    Weights N(0, init_scale^2 * c / fan_in) with c = 2 ("he", for relu) or 1 ("lecun"), or
    N(0, init_scale^2) ("normal", e.g. the tiny init of xor-grokking); biases 0.
    """
    gains = {"he": 2.0, "lecun": 1.0, "normal": None}
    if scheme not in gains:
        raise ValueError(f"scheme must be one of {tuple(gains)}, got {scheme!r}")
    rows = []
    for rng in rngs:
        pieces = []
        for lay in arch.layers:
            if lay.weight is None:
                continue
            gain = gains[scheme]
            std = init_scale if gain is None else init_scale * math.sqrt(gain / lay.fan_in)
            pieces.append(std * rng.standard_normal(lay.fan_in * lay.fan_out))
            if lay.bias is not None:
                pieces.append(0.0 * pieces[-1][:lay.fan_out])   # zero biases, same dtype
        xp = array_namespace(pieces[0])   # numpy, reached through the arrays the Generator made
        rows.append(xp.concat(pieces))
    return xp.stack(rows)


# ---- activations ---------------------------------------------------------------------------------
def _act(name, Z):
    xp = array_namespace(Z)
    return xp.maximum(Z, 0.0) if name == "relu" else xp.tanh(Z)


def _act_d1(name, Z):
    xp = array_namespace(Z)
    if name == "relu":  # derivative 0 at the kink (the subgradient backprop uses)
        return xp.astype(Z > 0, Z.dtype)
    t = xp.tanh(Z)
    return 1.0 - t * t


def _act_d2(name, Z):
    """s''(Z), or None where it vanishes (relu, almost everywhere)."""
    xp = array_namespace(Z)
    if name == "relu":
        return None
    t = xp.tanh(Z)
    return -2.0 * t * (1.0 - t * t)


# ---- forward, backward ---------------------------------------------------------------------------
def _affine(xp, A, W, b):
    Z = xp.matmul(A, W)  # (n, d) @ (R, d, h) broadcasts to (R, n, h)
    return Z if b is None else Z + xp.expand_dims(b, axis=-2)


def _forward(arch, theta, X):
    """(views, outputs F, layer inputs [X, A_1, ...], hidden pre-activations [Z_1, ...])."""
    xp = array_namespace(theta, X)
    views = arch.views(theta)
    inputs, pre = [X], []
    for lay, (W, b) in zip(arch.layers, views):
        Z = _affine(xp, inputs[-1], W, b)
        if lay.hidden:
            pre.append(Z)
            inputs.append(_act(arch.activation, Z))
    return views, Z, inputs, pre


def _backward(arch, views, inputs, pre, delta):
    """Vector-Jacobian product: delta = dL/dF (R, n, k) -> dL/dtheta (R, P) (backpropagation)."""
    xp = array_namespace(delta)
    pieces = []
    for i in reversed(range(len(views))):
        W, _ = views[i]
        trained = arch.layers[i].weight is not None
        pieces.append((xp.matmul(inputs[i].mT, delta), xp.sum(delta, axis=-2)) if trained else (None, None))
        if i > 0:
            delta = xp.matmul(delta, W.mT) * _act_d1(arch.activation, pre[i - 1])
    return arch.flatten(pieces[::-1])


def logits(arch: Architecture, theta, X):
    """Network outputs f(x_i; theta) per trial and sample: (R, n, d_out)."""
    return _forward(arch, theta, X)[1]


def loss(arch: Architecture, theta, X, Y, loss: str = "mse"):
    """Mean loss (1/n) sum_i l(f(x_i), y_i) per trial: (R,)."""
    xp = array_namespace(theta, X, Y)
    return xp.mean(get_loss(loss).value(logits(arch, theta, X), Y), axis=-1)


def loss_and_gradient(arch: Architecture, theta, X, Y, loss: str = "mse"):
    """(mean loss (R,), its gradient in the flat parameters (R, P)) by backpropagation."""
    xp = array_namespace(theta, X, Y)
    fn = get_loss(loss)
    views, F, inputs, pre = _forward(arch, theta, X)
    delta = fn.grad(F, Y) / F.shape[-2]
    return xp.mean(fn.value(F, Y), axis=-1), _backward(arch, views, inputs, pre, delta)


def gradient(arch: Architecture, theta, X, Y, loss: str = "mse"):
    """Gradient of the mean loss in the flat parameters: (R, P)."""
    return loss_and_gradient(arch, theta, X, Y, loss)[1]


def curvature_operator(arch: Architecture, theta, X, Y, loss: str = "mse", part: str = "full"):
    """V (R, P) -> (H V) (R, P) at theta, exact, by Pearlmutter's R-operator R{.} = d/dr .(theta + r V).

    The forward pass at theta is computed once and reused for every V.  ``part``: "full" (H),
    "gauss_newton" (J^T l'' J, PSD for these losses) or "residual" (H - GN).
    Forward (A_0 = X, Z_l = A_{l-1} W_l + b_l, A_l = s(Z_l), F = Z_L, R{A_0} = 0):
        R{Z_l} = R{A_{l-1}} W_l + A_{l-1} V_Wl + V_bl,   R{A_l} = s'(Z_l) * R{Z_l},   R{F} = R{Z_L}.
    Backward (delta_L = l'(F)/n, delta_{l-1} = (delta_l W_l^T) * s'(Z_{l-1})):
        R{delta_L} = l''(F) R{F} / n,
        R{delta_{l-1}} = (R{delta_l} W_l^T + delta_l V_Wl^T) * s'(Z_{l-1})
                         + (delta_l W_l^T) * s''(Z_{l-1}) * R{Z_{l-1}},
        (H V)_Wl = R{A_{l-1}}^T delta_l + A_{l-1}^T R{delta_l},   (H V)_bl = sum_i R{delta_l}.
    Gauss-Newton keeps only the l''(F) source (plain backprop of J^T l'' J V); the residual keeps
    every term carrying delta (which vanishes where l' = 0) and drops the l'' source.
    """
    if part not in ("full", "gauss_newton", "residual"):
        raise ValueError(f"part must be full, gauss_newton or residual, got {part!r}")
    xp = array_namespace(theta, X, Y)
    fn = get_loss(loss)
    act = arch.activation
    views, F, inputs, pre = _forward(arch, theta, X)
    n = F.shape[-2]
    delta_out = fn.grad(F, Y) / n
    curvature, residual = part != "residual", part != "gauss_newton"

    def apply(V):
        dviews = arch.views(V, direction=True)
        r_inputs, r_pre = [None], []          # R{A_0} = 0: the data does not move
        for i, lay in enumerate(arch.layers):
            (W, _), (VW, Vb) = views[i], dviews[i]
            RZ = None if r_inputs[i] is None else xp.matmul(r_inputs[i], W)
            if VW is not None:
                RZ = _add(RZ, _affine(xp, inputs[i], VW, Vb))
            if lay.hidden:
                r_pre.append(RZ)
                r_inputs.append(_act_d1(act, pre[i]) * RZ)
        r_delta = fn.hess_vec(F, Y, RZ) / n if curvature else None   # None: zero
        delta, pieces = delta_out, []
        for i in reversed(range(len(views))):
            (W, _), (VW, _) = views[i], dviews[i]
            if VW is None:
                pieces.append((None, None))
            else:
                gW = None if r_delta is None else xp.matmul(inputs[i].mT, r_delta)
                if residual and r_inputs[i] is not None:
                    gW = _add(gW, xp.matmul(r_inputs[i].mT, delta))
                gW = xp.zeros_like(W) if gW is None else gW   # e.g. residual of relu + fixed output
                gb = xp.zeros_like(delta[:, 0, :]) if r_delta is None else xp.sum(r_delta, axis=-2)
                pieces.append((gW, gb))
            if i == 0:
                break
            d1 = _act_d1(act, pre[i - 1])
            r_back = None if r_delta is None else xp.matmul(r_delta, W.mT)
            back = xp.matmul(delta, W.mT)
            if residual and VW is not None:
                r_back = _add(r_back, xp.matmul(delta, VW.mT))
            r_delta = None if r_back is None else r_back * d1
            d2 = _act_d2(act, pre[i - 1]) if residual else None
            if d2 is not None:
                r_delta = _add(r_delta, back * d2 * r_pre[i - 1])
            delta = back * d1
        return arch.flatten(pieces[::-1])

    return apply


def hvp(arch: Architecture, theta, X, Y, V, loss: str = "mse"):
    """Exact Hessian-vector product H(theta) V of the mean loss: (R, P) (see curvature_operator)."""
    return curvature_operator(arch, theta, X, Y, loss, "full")(V)


def gauss_newton_vp(arch: Architecture, theta, X, Y, V, loss: str = "mse"):
    """Gauss-Newton product (1/n) sum_i J_i^T l''(f_i) J_i V: (R, P)."""
    return curvature_operator(arch, theta, X, Y, loss, "gauss_newton")(V)


def residual_vp(arch: Architecture, theta, X, Y, V, loss: str = "mse"):
    """Residual product (H - GN) V = (1/n) sum_i sum_c l'(f_i)_c Hess f_ic V: (R, P)."""
    return curvature_operator(arch, theta, X, Y, loss, "residual")(V)


def accuracy(F, targets):
    """Fraction of correctly classified samples per trial (R,).

    F (R, n, k) outputs.  k = 1: targets are labels +-1 (.., n), correct when sign f = y;
    k >= 2: targets one-hot (.., n, k) or integer labels (.., n), correct when argmax f matches.
    """
    xp = array_namespace(F, targets)
    if F.shape[-1] == 1:
        hit = xp.sign(F[..., 0]) == xp.sign(targets)
    else:
        labels = xp.argmax(targets, axis=-1) if targets.ndim == F.ndim else targets
        hit = xp.argmax(F, axis=-1) == xp.astype(labels, xp.int64)
    return xp.mean(xp.astype(hit, F.dtype), axis=-1)


def _add(a, b):
    """a + b where None stands for an exact zero (skips work the R-operator does not need)."""
    return b if a is None else a + b
