"""``gxsim run``: simulate a scenario and write its results."""

from __future__ import annotations

from sim.cli import add_output_options
from sim.cli._common import Stages, numba_notice, output_folder, show_progress, warn_hints
from sim.core.engine import simulate
from sim.inputs.scenario import load_scenario
from sim.io import atomic_output_dir, check_output_target
from sim.report.run import summary_text, write_result


def configure_parser(parser) -> None:
    """Arguments of ``gxsim run``."""
    parser.add_argument("scenario", help="scenario file (TOML)")
    add_output_options(parser, "results/<scenario name>/run")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def command(args) -> int:
    """Simulate, print the summary, write the results atomically."""
    out = output_folder(args.output, args.scenario, "run")
    check_output_target(out, overwrite=args.overwrite)  # refused before any work
    scenario = load_scenario(args.scenario)
    hints = warn_hints("run", scenario)
    stages = Stages("run", ["simulate", "write"], show_progress(args.no_progress))
    stages.start("simulating the year hour by hour")
    with numba_notice("run"):
        result = simulate(scenario)
    result.notes.extend(f"warning: {h}" for h in hints)
    stages.done()
    stages.start("writing results")
    with atomic_output_dir(out, overwrite=args.overwrite) as tmp:
        files = write_result(result, tmp)
    stages.done()
    stages.close()
    print(summary_text(result))
    print(f"\nWrote {', '.join(files)} to {out}/")
    return 0
