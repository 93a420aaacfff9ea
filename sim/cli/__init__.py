"""The ``gxsim`` command line.

Each subcommand has its module here (``sim/cli/run.py``, ``score.py``,
``future.py``, ``sweep.py``, ``verify.py``) exposing ``configure_parser(parser)``
and ``command(args) -> int``: it wires a study (``sim.studies``) or a simulation
to its report (``sim.report``) and the output folder. Every command keeps the
same exit statuses (:data:`EXIT_STATUSES`, also in the README):

====  ==============================================================
0     success, or the verdict PASS
1     the verdict FAIL
2     bad input or a refused request (one line naming file, field or row)
3     the verdict INCONCLUSIVE
4     internal error: one line, the traceback saved in a log file whose
      path is printed (also a run stopped by its environment, e.g. lost
      Dask workers, with what happened and how to continue)
130   interrupted (Ctrl-C)
====  ==============================================================
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import tempfile
import traceback

from sim.errors import InputError, RunStopped

#: subcommand -> (module, one-line help)
COMMANDS = {
    "run": ("sim.cli.run", "simulate a scenario's year hour by hour"),
    "score": ("sim.cli.score", "the programme's figures and score sheet for a scenario"),
    "future": ("sim.cli.future", "2030–2050 sensitivity: population decline and ageing"),
    "sweep": ("sim.cli.sweep", "batch sweep over equipment mixes"),
    "optimize": ("sim.cli.optimize", "least-cost equipment mix that meets the targets"),
    "verify": ("sim.cli.verify", "check an island supply claim against meter data"),
}
#: exit status -> meaning (README "Exit statuses")
EXIT_STATUSES = {0: "success or PASS", 1: "FAIL", 2: "bad input or refused",
                 3: "INCONCLUSIVE", 4: "internal error (traceback in a log file)"}
#: errors of the machine or the file system that are the user's to fix (status 2)
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.ENOENT,
                errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EDQUOT, errno.ENAMETOOLONG}


def add_output_options(parser, default_help: str) -> None:
    """``-o/--output`` and ``--overwrite``, the same for every command that writes."""
    parser.add_argument("-o", "--output", default=None,
                        help=f"output folder: new, empty, or written by gxsim "
                             f"(default: {default_help})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results in a folder gxsim wrote earlier "
                             "(only its own files; files you added are kept)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    from sim._version import __version__

    parser = argparse.ArgumentParser(
        prog="gxsim", description="Hourly energy matching for Decarbonization Leading Areas.",
        epilog="exit status: " + "; ".join(f"{k} {v}" for k, v in EXIT_STATUSES.items()))
    parser.add_argument("--version", action="version", version=f"gxsim {__version__}")
    parser.add_argument("--max-input-mb", type=float, default=None, metavar="MB",
                        help="size limit of every input file (default: 16 MB for TOML, "
                             "512 MB for tables and weather, 4096 MB for meter data; "
                             "also GXSIM_MAX_INPUT_MB)")
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
    name = f"gxsim {args.command}"
    if args.max_input_mb is not None and not args.max_input_mb > 0:
        print(f"{name}: error: --max-input-mb: expected a size > 0", file=sys.stderr)
        return 2
    old_limit = os.environ.get("GXSIM_MAX_INPUT_MB")
    if args.max_input_mb is not None:
        os.environ["GXSIM_MAX_INPUT_MB"] = repr(args.max_input_mb)
    try:
        return _run(args, name)
    finally:  # main() may be called again in the same process (tests, notebooks)
        if old_limit is None:
            os.environ.pop("GXSIM_MAX_INPUT_MB", None)
        else:
            os.environ["GXSIM_MAX_INPUT_MB"] = old_limit


def _run(args, name: str) -> int:
    """The command, its errors turned into one line and an exit status."""
    try:
        return int(args._module.command(args) or 0)
    except InputError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted; nothing was written for the "
              "unfinished part", file=sys.stderr)
        return 130
    except RunStopped as exc:
        log = _save_traceback(name)
        print(f"{name}: stopped: {exc} (details: {log})", file=sys.stderr)
        return 4
    except OSError as exc:
        if exc.errno not in _USER_ERRNOS:
            return _internal_error(name, exc)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{name}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        return _internal_error(name, exc)


def _save_traceback(name: str) -> str:
    """Write the current exception's traceback to a log file; returns its path."""
    try:
        fd, path = tempfile.mkstemp(prefix="gxsim-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{name} (argv: {sys.argv!r})\n")
            traceback.print_exc(file=fh)
        return path
    except OSError:
        return "(the log file could not be written)"


def _internal_error(name: str, exc: BaseException) -> int:
    log = _save_traceback(name)
    first = " ".join(str(exc).split())[:300]
    print(f"{name}: internal error: {exc.__class__.__name__}: {first}; this is a bug in "
          f"gxsim; the traceback is in {log}", file=sys.stderr)
    return 4


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
