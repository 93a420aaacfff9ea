"""gxsim: hourly energy matching for Japan's Decarbonization Leading Areas."""

from sim.errors import InputError

__version__ = "0.1.0"

__all__ = ["InputError", "__version__"]
