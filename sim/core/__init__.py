"""Core: the numba matching kernel, ``match``, ``simulate`` and attribution.

Owns the dispatch semantics (on-site use, batteries, regional pool, community
battery, grid top-up), the arrays-to-xarray ``Result`` of a year and the
attribution of every delivered kWh to its generator. Arrays and labelled
results only: no programme figures, no scoring, no files written. May import
:mod:`sim.physics` and :mod:`sim.inputs`.
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
