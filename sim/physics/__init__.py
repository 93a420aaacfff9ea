"""Physics: weather in, kWh per hour out.

Owns the generation models (solar through pvlib per orientation group, wind
at hub height through turbine power curves, biomass, waste with its biomass
and plastic shares) and the demand shapes of each consumer archetype. Pure
functions of arrays and validated scenario rows: no programme rules, no
dispatch. May import :mod:`sim.inputs` (and :mod:`sim.errors`).
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
