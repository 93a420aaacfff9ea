"""gxsim: hourly energy matching for Japan's Decarbonization Leading Areas.

>>> import sim
>>> sc = sim.load_scenario("scenarios/island_demo.toml")   # doctest: +SKIP
>>> res = sim.simulate(sc)                                  # doctest: +SKIP

The package follows the data, one way only (see ``docs/design.md``)::

    inputs -> physics -> core -> programme -> studies -> report -> cli

``sim.inputs`` reads and validates files, ``sim.physics`` turns weather into
kWh per hour, ``sim.core`` matches supply and demand, ``sim.programme`` applies
the programme's rules, ``sim.studies`` wraps the kernel many times and
``sim.report`` renders; ``sim.cli`` wires them into the ``gxsim`` command.
"""

from sim.core import accounting
from sim.core.dispatch import match
from sim.core.engine import Result, simulate
from sim.errors import InputError
from sim.inputs.scenario import Scenario, load_scenario
from sim.programme.evaluate import Evaluation, evaluate
from sim.studies.future import future
from sim.studies.optimize import optimize
from sim.studies.sweep import sweep
from sim.studies.verify import verify

from sim._version import __version__  # noqa: E402

#: the layers, reachable after ``import sim`` (each imports its modules on first use)
_PACKAGES = ("inputs", "physics", "core", "programme", "studies", "report", "cli",
             "errors", "io")


def __getattr__(name: str):
    """``sim.report``, ``sim.studies`` … (and their modules) without importing them first."""
    if name in _PACKAGES:
        import importlib

        return importlib.import_module(f"sim.{name}")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PACKAGES))


def _reachable(package) -> None:
    """Give ``package`` and every sub-package a module ``__getattr__`` that imports a
    submodule on first use, so ``sim.inputs.weather.stats`` works right after
    ``import sim`` (a package that defines its own keeps it)."""
    import importlib
    import pkgutil

    def __getattr__(name: str, _pkg: str = package.__name__):
        try:
            return importlib.import_module(f"{_pkg}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{_pkg}.{name}":
                raise
            raise AttributeError(f"module {_pkg!r} has no attribute {name!r}") from None

    package.__dict__.setdefault("__getattr__", __getattr__)
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg and not info.name.startswith("_"):
            _reachable(importlib.import_module(f"{package.__name__}.{info.name}"))


for _name in ("inputs", "physics", "core", "programme", "studies", "report", "cli"):
    _reachable(__getattr__(_name))
del _name

__all__ = ["Evaluation", "InputError", "Result", "Scenario", "__version__", "accounting",
           "evaluate", "future", "load_scenario", "match", "optimize", "simulate", "sweep",
           "verify"]
