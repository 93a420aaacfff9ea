"""Studies: work that wraps the kernel many times, returning data objects.

Owns batch sweeps (with their batch kernel and Dask), the 2030–2050
sensitivity study and the verification of an island claim against meter data.
Each returns data (an xarray Dataset or a result object); none prints or
renders: that is :mod:`sim.report`. May import :mod:`sim.programme`,
:mod:`sim.core`, :mod:`sim.physics` and :mod:`sim.inputs`.
"""


def __getattr__(name: str):
    """Every module of the package is reachable as an attribute (``sim.<package>.<module>``),
    imported on first use."""
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
