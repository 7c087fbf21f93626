"""hessian-spectrum: parameters, the sweep and the metric dictionary.

Setting: k-class Gaussian mixture in d dimensions (separation between class means, isotropic
noise), one hidden ReLU layer of width h, k linear outputs, mean squared error on one-hot targets,
full-batch gradient descent from a LeCun-normal initialization.  Networks are small enough
(P = d h + h + h k + k <= MAX_DENSE_PARAMS) that the whole Hessian is computed exactly from
R-operator products and diagonalized, next to the Lanczos estimates.
"""
from __future__ import annotations

from experiments.params import Param, require

MAX_DENSE_PARAMS = 2500     # dense spectra only: beyond this the quick budget is gone
DENSITY_GRID = (-2.0, 30.0, 321)   # eigenvalue grid of the recorded densities (lo, hi, points)
DENSITY_SIGMA = 0.15        # Gaussian smoothing of the exact and SLQ densities
SEGMENT_POINTS = 21         # points on each interpolation segment (t = 0, 0.05, ..., 1)

PARAMS = {
    "classes": Param((2, 3, 4), (2, 3, 4, 5), "class counts k, one unit each", low=2),
    "widths": Param((16, 32, 64), (16, 32, 64, 128), "hidden widths h trained on the same data", low=1),
    "probe_width": Param(32, 32, "width of the probe (initialization, SLQ) and segment runs", low=1),
    "probe_classes": Param(3, 3, "k of the segment (small-batch vs large-batch) runs", low=2),
    "dim": Param(10, 10, "input dimension d", low=1),
    "samples": Param(240, 480, "training samples n per trial", low=2),
    "separation": Param(4.0, 4.0, "distance between class means", low=0, open_low=True),
    "noise": Param(0.4, 0.4, "within-class standard deviation", low=0, open_low=True),
    "lr": Param(0.1, 0.1, "gradient-descent step (large batch = full batch)", low=0, open_low=True),
    "steps": Param(1500, 3000, "gradient-descent steps", low=1),
    "batch": Param(4, 4, "small-batch SGD batch size", low=1),
    "sb_lr": Param(0.05, 0.05, "small-batch SGD step", low=0, open_low=True),
    "sb_steps": Param(1500, 3000, "small-batch SGD steps", low=1),
    "band": Param(0.01, 0.01, "near-zero band: |lambda| <= band * lambda_max", low=0, high=1,
                  open_low=True, open_high=True),
    "slq_probes": Param(2, 4, "SLQ probe vectors", low=1),
    "slq_steps": Param(40, 60, "Lanczos steps per SLQ probe", low=2),
}


def n_params(dim: int, width: int, classes: int) -> int:
    """P of d -> h -> k with biases."""
    return dim * width + width + width * classes + classes


def check_params(p: dict) -> None:
    require(p["batch"] <= p["samples"],
            f"batch={p['batch']} is larger than samples={p['samples']}: needs batch <= samples")
    biggest = n_params(p["dim"], max(p["widths"] + (p["probe_width"],)), max(p["classes"] + (p["probe_classes"],)))
    require(biggest <= MAX_DENSE_PARAMS,
            f"the largest network has P={biggest} parameters: dense spectra need P <= {MAX_DENSE_PARAMS}")
    require(len(set(p["widths"])) >= 3, f"widths={p['widths']}: the width claim needs >= 3 distinct widths")
    require(p["samples"] >= max(p["classes"] + (p["probe_classes"],)),
            f"samples={p['samples']} is smaller than the number of classes")


def sweep(p: dict) -> list[dict]:
    """Per k: the width sweep (every width trained on the same data, so width is a grid label)
    and the probe network (initialization and trained spectra); then the small-batch /
    large-batch segment."""
    units = [{"setting": "widths", "classes": k} for k in p["classes"]]
    units += [{"setting": "probe", "classes": k} for k in p["classes"]]
    units.append({"setting": "segment", "classes": p["probe_classes"]})
    return units


METRICS = {
    "density": "exact eigenvalue density of H, Gaussian-smoothed, on the grid index [1/eigenvalue]",
    "slq_density": "stochastic Lanczos quadrature estimate of the same density [1/eigenvalue]",
    "eigenvalue": "rank-th largest eigenvalue of the exact Hessian H [loss/param^2]",
    "gauss_newton_eigenvalue": "rank-th largest eigenvalue of the Gauss-Newton part by Lanczos [loss/param^2]",
    "near_zero_fraction": "fraction of eigenvalues with |lambda| <= band * lambda_max [1]",
    "train_loss": "mean squared error at the point the spectrum is taken [loss]",
    "train_accuracy": "training accuracy at that point [1]",
    "segment_loss": "training loss along (1-t) theta_a + t theta_b, at the grid index t [loss]",
}
