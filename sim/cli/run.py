"""``gxsim run``: simulate a scenario and write its results."""

from __future__ import annotations

from pathlib import Path

from sim.core.engine import simulate
from sim.io import atomic_output_dir
from sim.report.run import summary_text, write_result
from sim.inputs.scenario import load_scenario


def configure_parser(parser) -> None:
    """Arguments of ``gxsim run``."""
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument("-o", "--output", default=None,
                        help="output folder (default: results/<scenario name>)")


def command(args) -> int:
    """Simulate, print the summary, write the results atomically."""
    scenario = load_scenario(args.scenario)
    result = simulate(scenario)
    out = Path(args.output or Path("results") / Path(args.scenario).stem)
    with atomic_output_dir(out) as tmp:
        files = write_result(result, tmp)
    print(summary_text(result))
    print(f"\nWrote {', '.join(files)} to {out}/")
    return 0
