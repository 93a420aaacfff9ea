"""gxsim: hourly energy matching for Japan's Decarbonization Leading Areas.

>>> import sim
>>> sc = sim.load_scenario("scenarios/island_demo.toml")   # doctest: +SKIP
>>> res = sim.simulate(sc)                                  # doctest: +SKIP
"""

from sim.dispatch import match
from sim.engine import Result, simulate
from sim.errors import InputError
from sim.evaluate import Evaluation, evaluate
from sim.future import future
from sim.scenario import Scenario, load_scenario
from sim.sweep import sweep
from sim.verify import verify

# ``sim.evaluate``, ``sim.future``, ``sim.sweep`` and ``sim.verify`` are the
# functions; their modules are imported as ``from sim.sweep import ...``.

__version__ = "0.1.0"

__all__ = ["Evaluation", "InputError", "Result", "Scenario", "__version__", "evaluate",
           "future", "load_scenario", "match", "simulate", "sweep", "verify"]
