"""``gxsim sweep``: a batch sweep over equipment mixes, written to a folder."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import add_output_options
from sim.cli._common import numba_notice, output_folder, warn_hints
from sim.errors import InputError, RunStopped
from sim.inputs.scenario import Scenario, load_scenario
from sim.io import check_output_target
from sim.report.sweep import summary_text, write_outputs
from sim.studies.store import store_lock
from sim.studies.sweep import SweepRun, best_cases, flat_cases, run, work_folder


def configure_parser(parser) -> None:
    """Arguments of ``gxsim sweep``."""
    parser.add_argument("scenario", help="scenario file (TOML) with a [sweep] section")
    add_output_options(parser, "results/<scenario name>/sweep")
    parser.add_argument("--resume", action="store_true",
                        help="keep the chunks of an interrupted run and compute the rest")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run chunks on a Dask scheduler (tcp://host:8786) or 'local'")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="cases per chunk (default: [sweep] chunk_size)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def command(args) -> int:
    """Run the sweep, write the outputs, print the summary."""
    out = output_folder(args.output, args.scenario, "sweep")
    check_output_target(out, overwrite=args.overwrite)  # refused before any work
    scenario = load_scenario(args.scenario)
    if not scenario.sweep.parameters and scenario.sweep.table is None:
        raise InputError("no [sweep] section with parameters", source=args.scenario,
                         field="sweep")
    if args.chunk_size is not None and args.chunk_size < 1:
        raise InputError(f"expected a chunk size >= 1, got {args.chunk_size}",
                         field="--chunk-size")
    warn_hints("sweep", scenario)
    try:
        with numba_notice("sweep"):
            result, files = sweep_to_folder(scenario, out, resume=args.resume,
                                            dask=args.dask, chunk_size=args.chunk_size,
                                            overwrite=args.overwrite,
                                            progress=False if args.no_progress else None)
    except KeyboardInterrupt:
        print(f"gxsim sweep: interrupted; finished chunks are kept in "
              f"{work_folder(out)}/ — run again with --resume to continue", file=sys.stderr)
        raise
    except RunStopped:
        print(f"gxsim sweep: finished chunks are kept in {work_folder(out)}/",
              file=sys.stderr)
        raise
    for note in result.notes:
        print(f"gxsim sweep: note: {note}", file=sys.stderr)
    cases = result.cases
    df = flat_cases(result.dataset, cases)
    best, objective, sense = best_cases(df, scenario.sweep)
    print(summary_text(result.dataset, cases, best, objective, sense))
    rate = result.computed_cases / result.seconds if result.seconds > 0 else float("nan")
    print(f"\n{result.computed} chunk(s) computed, {result.reused} reused; "
          f"{result.seconds:.1f} s ({rate:,.0f} scenario-years/s; kernels loaded in "
          f"{result.warm_up_seconds:.1f} s before)")
    print(f"Wrote {', '.join(files)} to {out}/")
    return 0


def sweep_to_folder(scenario: Scenario, output: str | Path, *, overwrite: bool = False,
                    **kwargs) -> tuple[SweepRun, list[str]]:
    """Run a sweep into ``output`` (chunks beside it) and write its files.

    ``kwargs`` go to :func:`sim.studies.sweep.run`. The store stays locked
    until the files are written, so no other sweep can slip in between.
    Returns the run and the names of the files written; an incomplete run
    (``max_chunks``) writes nothing and keeps its chunks for ``resume=True``.
    """
    with store_lock(output):
        # checked again under the lock: a sweep that just finished may have written it
        check_output_target(output, overwrite=overwrite)
        result = run(scenario, output=output, **kwargs)
        files = (write_outputs(result, output, overwrite=overwrite)
                 if result.complete else [])
    return result, files
