"""Shared look of gxsim's matplotlib figures: month names, legends outside the data."""

from __future__ import annotations

from pathlib import Path

#: month abbreviations for axes (English, as the rest of the figures)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def month_names(months) -> list[str]:
    """Month numbers 1–12 → ``Jan`` … ``Dec``."""
    return [MONTHS[int(m) - 1] for m in months]


def legend_outside(ax, *, ncol: int = 1, **kwargs):
    """A legend to the right of the axes, never over the data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                     ncol=ncol, fontsize="small", frameon=False, **kwargs)


def legend_below(ax, *, ncol: int = 3, **kwargs):
    """A legend under the axes (for wide figures), never over the data."""
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), borderaxespad=0.0,
                     ncol=ncol, fontsize="small", frameon=False, **kwargs)


def save(fig, path: Path, *, dpi: int = 100) -> Path:
    """Write a PNG with the legends inside the image (tight bounding box) and close it."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return Path(path)
