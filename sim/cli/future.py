"""``gxsim future``: the 2030–2050 sensitivity study of a scenario."""

from __future__ import annotations

from sim.cli import add_output_options
from sim.cli._common import numba_notice, output_folder, show_progress, warn_hints
from sim.inputs.scenario import load_scenario
from sim.report.future import summary_text, write_study
from sim.studies.future import future, parse_years


def configure_parser(parser) -> None:
    """Arguments of ``gxsim future``."""
    parser.add_argument("scenario", help="scenario file (TOML)")
    add_output_options(parser, "results/<scenario name>/future")
    parser.add_argument("--years", default=None,
                        help="study years, START:STOP:STEP or a comma list (default "
                             "[future] years, or the base year then 2025:2050:5)")
    parser.add_argument("--variants", default=None,
                        help="comma list of reference, harsher, milder (default all)")
    parser.add_argument("--replace", action="store_true",
                        help="renew every plant at the end of its life")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG/HTML report")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def command(args) -> int:
    """Run the study, print the summary, write the results atomically."""
    from sim.io import atomic_output_dir, check_output_target

    out = output_folder(args.output, args.scenario, "future")
    check_output_target(out, overwrite=args.overwrite)  # refused before any work
    scenario = load_scenario(args.scenario)
    hints = warn_hints("future", scenario)
    if args.replace:
        scenario.future.replace = True
    years = parse_years(args.years) if args.years else None
    variants = [v.strip() for v in args.variants.split(",")] if args.variants else None
    with numba_notice("future"):
        study = future(scenario, years=years, variants=variants,
                       progress=show_progress(args.no_progress))
    study.notes.extend(f"warning: {h}" for h in hints)
    with atomic_output_dir(out, overwrite=args.overwrite) as tmp:
        files = write_study(study, tmp, plots=not args.no_plots)
    print(summary_text(study))
    print(f"\nWrote {', '.join(files)} to {out}/")
    return 0
