"""gxsim: hourly energy matching for Japan's Decarbonization Leading Areas.

>>> import sim
>>> sc = sim.load_scenario("scenarios/island_demo.toml")   # doctest: +SKIP
>>> res = sim.simulate(sc)                                  # doctest: +SKIP
"""

from sim.dispatch import match
from sim.engine import Result, simulate
from sim.errors import InputError
from sim.evaluate import Evaluation, evaluate  # noqa: F401  (issue 3)
from sim.future import future
from sim.scenario import Scenario, load_scenario
from sim.verify import verify  # noqa: F401  (issue 6: check an island claim)
from sim import sweep  # noqa: E402,F401  (issue 5: sim.sweep(...) runs a sweep)

__version__ = "0.1.0"

__all__ = ["InputError", "Result", "Scenario", "__version__", "future", "load_scenario",
           "match", "simulate"]
