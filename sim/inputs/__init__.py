"""Inputs: everything gxsim reads, checked before it is used.

Owns the scenario, claim and rubric schemas (pydantic) and TOML loading, the
weather readers (EPW, TMY2/TMY3, CSV, the embedded synthetic year), the meter
data readers and the location of the data shipped in ``profiles/``. Nothing
here simulates, dispatches or scores. May import only :mod:`sim.errors` and
:mod:`sim.io`; every other package of ``sim`` may import this one.
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
