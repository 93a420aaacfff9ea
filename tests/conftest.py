import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests/reference.py, the numpy oracle

DEMO = ROOT / "scenarios" / "island_demo.toml"


@pytest.fixture(scope="session")
def demo_scenario():
    """The shipped island example, the golden region reused across tests."""
    import sim

    return sim.load_scenario(DEMO)


@pytest.fixture(scope="session")
def demo_result(demo_scenario):
    """The island example simulated once per test session."""
    import sim

    return sim.simulate(demo_scenario)
