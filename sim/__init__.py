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

__all__ = ["Evaluation", "InputError", "Result", "Scenario", "__version__", "accounting",
           "evaluate", "future", "load_scenario", "match", "simulate", "sweep", "verify"]
