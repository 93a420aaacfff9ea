"""The version of gxsim (one place; ``sim.__version__`` and ``gxsim --version``)."""

__version__ = "0.1.0"
