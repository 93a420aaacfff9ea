"""The ``gxsim`` command line.

Each subcommand has its module here (``sim/cli/run.py``, ``score.py``,
``future.py``, ``sweep.py``, ``verify.py``) exposing ``configure_parser(parser)``
and ``command(args) -> int``: it wires a study (``sim.studies``) or a simulation
to its report (``sim.report``) and the output folder. Bad input ends
with one line on stderr naming the file, field or row, and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim.errors import InputError

#: subcommand -> (module, one-line help)
COMMANDS = {
    "run": ("sim.cli.run", "simulate a scenario's year hour by hour"),
    "score": ("sim.cli.score", "the programme's figures and score sheet for a scenario"),
    "future": ("sim.cli.future", "2030–2050 sensitivity: population decline and ageing"),
    "sweep": ("sim.cli.sweep", "batch sweep over equipment mixes"),
    "optimize": ("sim.cli.optimize", "least-cost equipment mix that meets the targets"),
    "verify": ("sim.cli.verify", "check an island supply claim against meter data"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    from sim._version import __version__

    parser = argparse.ArgumentParser(
        prog="gxsim", description="Hourly energy matching for Decarbonization Leading Areas.")
    parser.add_argument("--version", action="version", version=f"gxsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a subcommand still being built is simply not offered
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.configure_parser(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gxsim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._module.command(args) or 0)
    except InputError as exc:
        print(f"gxsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gxsim {args.command}: interrupted; nothing was written for the "
              "unfinished part", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
