"""Report: terminal summaries, plots and HTML pages of every result.

Owns how results look: text summaries, matplotlib figures and the HTML
reports of run, score, future, sweep and verify. Reads results, never
computes programme figures of its own. May import every package below it
(studies, programme, core, physics, inputs).
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
