"""The toy experiment's figure."""
from experiments.plotting import band, panels


def draw(results, p):
    fig, (ax,) = panels(1, width=3.4)
    for unit, tr in results.items():
        band(ax, tr.iterations, tr.series["error"], label=unit["setting"])
    ax.set_yscale("log")
    return fig
