"""Small fully connected networks, batched over trials, with hand-derived derivatives.

Problem class: empirical risk L(theta) = (1/n) sum_i l(f(x_i; theta), y_i) of a network with one
or two hidden layers, f(x) = W_L^T s(... s(W_1^T x + b_1) ...) + b_L, s = relu or tanh (losses in
algorithms.losses).  Parameters are ONE flat vector per trial, theta (R, P); an
:class:`Architecture` knows the layer shapes and slices and builds per-layer views.  Trials run in
lockstep: X is shared (n, d) or per trial (R, n, d), and every layer is one batched matmul (on
NumPy, gradients and curvature products take the trials in small blocks: see _row_chunks).

Provided: outputs (logits), mean loss and gradient (backpropagation), the exact Hessian-vector
product by Pearlmutter's R-operator, and its two parts, Gauss-Newton J^T l'' J v and the residual
(H - GN) v, as separate operators.  Array-API generic; the dtype follows theta and X.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from array_api_compat import array_namespace, device as array_device, is_numpy_array

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
        # read several times per training step: build the layer table once
        object.__setattr__(self, "_layers", self._build_layers())

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self._layers

    def _build_layers(self) -> tuple[Layer, ...]:
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
        return tuple(out)

    @property
    def n_params(self) -> int:
        """P, the length of the flat parameter vector."""
        return max([s.stop for lay in self.layers for s in (lay.weight, lay.bias) if s] + [0])

    def views(self, theta, *, direction: bool = False, xp=None):
        """[(W (R, fan_in, fan_out), b (R, fan_out) | None)] per layer, views of theta (R, P).

        A fixed layer gives its constant weights (fan_in, fan_out), or (None, None) when theta is
        a ``direction`` (a tangent vector has no component along fixed weights).  ``xp``: the
        namespace, when the caller has it (hot loops look it up once)."""
        xp = xp or array_namespace(theta)
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

    def flatten(self, pieces, xp=None):
        """Inverse of :meth:`views` for trained layers: [(gW, gb)] -> (R, P)."""
        xp = xp or array_namespace(*[p for pair in pieces for p in pair if p is not None])
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
def _act(name, Z, xp):
    return xp.maximum(Z, 0.0) if name == "relu" else xp.tanh(Z)


def _act_d1(name, Z, xp):
    """s'(Z), an array of Z's dtype."""
    if name == "relu":  # derivative 0 at the kink (the subgradient backprop uses)
        return xp.astype(Z > 0, Z.dtype)
    t = xp.tanh(Z)
    return 1.0 - t * t


def _act_d2(name, Z, xp):
    """s''(Z), or None where it vanishes (relu, almost everywhere)."""
    if name == "relu":
        return None
    t = xp.tanh(Z)
    return -2.0 * t * (1.0 - t * t)


def _through_act(name, back, Z, xp):
    """back * s'(Z), in place into ``back`` (a fresh array).  A product with a 0/1 array, not a
    select: NumPy's where branches on every element, ~3x slower on a relu's random-looking mask."""
    back *= _act_d1(name, Z, xp)
    return back


# ---- forward, backward ---------------------------------------------------------------------------
def _affine(A, W, b):
    """A W + b: (n, d) @ (R, d, h) broadcasts to (R, n, h).  The bias goes in place: one more
    array of that size per layer is an allocation that large batches page-fault in every step."""
    Z = A @ W
    if b is not None:
        Z += b[:, None, :]
    return Z


def _forward(arch, theta, X, xp=None):
    """(views, outputs F, layer inputs [X, A_1, ...], hidden pre-activations [Z_1, ...])."""
    xp = xp or array_namespace(theta, X)
    views = arch.views(theta, xp=xp)
    inputs, pre = [X], []
    for lay, (W, b) in zip(arch.layers, views):
        Z = _affine(inputs[-1], W, b)
        if lay.hidden:
            pre.append(Z)
            inputs.append(_act(arch.activation, Z, xp))
    return views, Z, inputs, pre


def _backward(arch, views, inputs, pre, delta, xp=None):
    """Vector-Jacobian product: delta = dL/dF (R, n, k) -> dL/dtheta (R, P) (backpropagation)."""
    xp = xp or array_namespace(delta)
    pieces = []
    for i in reversed(range(len(views))):
        trained = arch.layers[i].weight is not None
        pieces.append((inputs[i].mT @ delta, xp.sum(delta, axis=-2)) if trained else (None, None))
        if i > 0:
            delta = _through_act(arch.activation, delta @ views[i][0].mT, pre[i - 1], xp)
    return arch.flatten(pieces[::-1], xp)


def _output_delta(fn, F, Y):
    """dL/dF of the mean loss, l'(F) / n."""
    return fn.grad(F, Y) / F.shape[-2]


def logits(arch: Architecture, theta, X):
    """Network outputs f(x_i; theta) per trial and sample: (R, n, d_out)."""
    return _forward(arch, theta, X)[1]


def loss(arch: Architecture, theta, X, Y, loss: str = "mse"):
    """Mean loss (1/n) sum_i l(f(x_i), y_i) per trial: (R,)."""
    xp = array_namespace(theta, X, Y)
    return xp.mean(get_loss(loss).value(_forward(arch, theta, X, xp)[1], Y), axis=-1)


def loss_and_gradient(arch: Architecture, theta, X, Y, loss: str = "mse"):
    """(mean loss (R,), its gradient in the flat parameters (R, P)) by backpropagation."""
    xp = array_namespace(theta, X, Y)
    fn = get_loss(loss)
    views, F, inputs, pre = _forward(arch, theta, X, xp)
    grad = _backward(arch, views, inputs, pre, _output_delta(fn, F, Y), xp)
    return xp.mean(fn.value(F, Y), axis=-1), grad


def gradient(arch: Architecture, theta, X, Y, loss: str = "mse", *, rows_per_chunk: int | None = None):
    """Gradient of the mean loss in the flat parameters: (R, P).  The loss value is not formed
    (an optimizer step needs only this).  Rows of theta in chunks as in :func:`curvature_operator`."""
    xp = array_namespace(theta, X, Y)
    fn = get_loss(loss)
    grads = [_backward(arch, *_forward_delta(arch, fn, t, x, y, xp), xp)
             for _, t, x, y in _row_chunks(arch, fn, theta, X, Y, rows_per_chunk)]
    return grads[0] if len(grads) == 1 else xp.concat(grads, axis=0)


def _forward_delta(arch, fn, theta, X, Y, xp):
    """(views, layer inputs, pre-activations, dL/dF): what the backward pass needs."""
    views, F, inputs, pre = _forward(arch, theta, X, xp)
    return views, inputs, pre, _output_delta(fn, F, Y)


# 128 KiB of float64 per (rows, n, width) array: under glibc's mmap threshold, so malloc reuses
# the step's temporaries instead of mapping and page-faulting them in anew every step (2-2.5x
# slower GD steps at R = 8 or 32, n = 240, h >= 32), and a pass over a few of them stays in cache
CHUNK_ELEMENTS = 1 << 14


def _row_chunks(arch, fn, theta, X, Y, rows_per_chunk):
    """[(rows, theta, X, Y)] for consecutive blocks ``rows`` (a slice) of trials; X and Y are cut
    too where they are per trial.  Each row's arithmetic is the same in a block as in the batch.
    ``rows_per_chunk`` None: on NumPy, as many rows as keep an (n, width) array per row within
    CHUNK_ELEMENTS; elsewhere (a GPU) one block."""
    R = theta.shape[0]
    rows = rows_per_chunk or _default_chunk(arch, theta, X)
    if rows >= R:
        return [(slice(None), theta, X, Y)]
    x_rows = X.ndim == 3 and X.shape[0] == R
    y_rows = Y.ndim == (2 if fn.name == "logistic" else 3) and Y.shape[0] == R
    blocks = [slice(s, min(s + rows, R)) for s in range(0, R, rows)]
    return [(b, theta[b, ...], X[b, ...] if x_rows else X, Y[b, ...] if y_rows else Y) for b in blocks]


def _default_chunk(arch, theta, X) -> int:
    if not is_numpy_array(theta):
        return theta.shape[0]
    return max(1, CHUNK_ELEMENTS // (X.shape[-2] * max(arch.widths)))


def curvature_operator(arch: Architecture, theta, X, Y, loss: str = "mse", part: str = "full", *,
                       rows_per_chunk: int | None = None):
    """V (R, P) -> (H V) (R, P) at theta, exact, by Pearlmutter's R-operator R{.} = d/dr .(theta + r V).

    The forward pass at theta, s'(Z), s''(Z) and the backpropagated deltas are computed once and
    reused for every V.  ``part``: "full" (H), "gauss_newton" (J^T l'' J, PSD for these losses) or
    "residual" (H - GN).
    Forward (A_0 = X, Z_l = A_{l-1} W_l + b_l, A_l = s(Z_l), F = Z_L, R{A_0} = 0):
        R{Z_l} = R{A_{l-1}} W_l + A_{l-1} V_Wl + V_bl,   R{A_l} = s'(Z_l) * R{Z_l},   R{F} = R{Z_L}.
    Backward (delta_L = l'(F)/n, delta_{l-1} = (delta_l W_l^T) * s'(Z_{l-1})):
        R{delta_L} = l''(F) R{F} / n,
        R{delta_{l-1}} = (R{delta_l} W_l^T + delta_l V_Wl^T) * s'(Z_{l-1})
                         + (delta_l W_l^T) * s''(Z_{l-1}) * R{Z_{l-1}},
        (H V)_Wl = R{A_{l-1}}^T delta_l + A_{l-1}^T R{delta_l},   (H V)_bl = sum_i R{delta_l}.
    Gauss-Newton keeps only the l''(F) source (plain backprop of J^T l'' J V); the residual keeps
    every term carrying delta (which vanishes where l' = 0) and drops the l'' source.

    ``rows_per_chunk``: trials (rows of theta and V) per pass, each block with its own forward
    pass (see _row_chunks; on NumPy a 256-row tiled block of 8 columns runs ~1.5x faster in
    blocks of 2 rows).  Exact either way.
    """
    if part not in ("full", "gauss_newton", "residual"):
        raise ValueError(f"part must be full, gauss_newton or residual, got {part!r}")
    xp = array_namespace(theta, X, Y)
    fn = get_loss(loss)
    chunks = _row_chunks(arch, fn, theta, X, Y, rows_per_chunk)
    operators = [(rows, _curvature_rows(arch, t, x, y, fn, part, xp)) for rows, t, x, y in chunks]
    if len(operators) == 1:
        return operators[0][1]

    def apply(V):
        return xp.concat([op(V[rows, ...]) for rows, op in operators], axis=0)

    return apply


def _backprop_deltas(views, d1, delta_out):
    """delta_l (dL/dZ_l) for every layer, and back_l = delta_l W_l^T (None for the first)."""
    deltas, backs = [delta_out], [None]
    for i in range(len(views) - 1, 0, -1):
        back = deltas[0] @ views[i][0].mT
        deltas.insert(0, back * d1[i - 1])
        backs.insert(1, back)
    return deltas, backs


def _curvature_rows(arch, theta, X, Y, fn, part, xp):
    """curvature_operator on all rows of theta at once."""
    act, layers = arch.activation, arch.layers
    views, F, inputs, pre = _forward(arch, theta, X, xp)
    n = F.shape[-2]
    curvature, residual = part != "residual", part != "gauss_newton"
    # fixed at theta, so computed here once rather than in every product
    d1 = [_act_d1(act, Z, xp) for Z in pre]
    deltas, backs = _backprop_deltas(views, d1, _output_delta(fn, F, Y))
    d2 = [_act_d2(act, Z, xp) if residual else None for Z in pre]
    back_d2 = [None if s2 is None else back * s2 for back, s2 in zip(backs[1:], d2)]

    def apply(V):
        dviews = arch.views(V, direction=True, xp=xp)
        r_inputs, r_pre = [None], []          # R{A_0} = 0: the data does not move
        for i, lay in enumerate(layers):
            (W, _), (VW, Vb) = views[i], dviews[i]
            RZ = None if r_inputs[i] is None else r_inputs[i] @ W
            if VW is not None:
                RZ = _add(RZ, _affine(inputs[i], VW, Vb))
            if lay.hidden:
                r_pre.append(RZ)
                r_inputs.append(d1[i] * RZ)
        r_delta = fn.hess_vec(F, Y, RZ) / n if curvature else None   # None: zero
        pieces = []
        for i in reversed(range(len(layers))):
            (W, _), (VW, _), delta = views[i], dviews[i], deltas[i]
            if VW is None:
                pieces.append((None, None))
            else:
                gW = None if r_delta is None else inputs[i].mT @ r_delta
                if residual and r_inputs[i] is not None:
                    gW = _add(gW, r_inputs[i].mT @ delta)
                gW = xp.zeros_like(W) if gW is None else gW   # e.g. residual of relu + fixed output
                gb = xp.zeros_like(delta[:, 0, :]) if r_delta is None else xp.sum(r_delta, axis=-2)
                pieces.append((gW, gb))
            if i == 0:
                break
            r_back = None if r_delta is None else r_delta @ W.mT
            if residual and VW is not None:
                r_back = _add(r_back, delta @ VW.mT)
            if r_back is not None:
                r_back *= d1[i - 1]
            r_delta = r_back
            if back_d2[i - 1] is not None:
                r_delta = _add(r_delta, back_d2[i - 1] * r_pre[i - 1])
        return arch.flatten(pieces[::-1], xp)

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
    """a + b where None stands for an exact zero (skips work the R-operator does not need); the
    sum goes in place into ``a``, a fresh array of the same shape."""
    if a is None:
        return b
    a += b
    return a
