"""``gxsim verify``: check an island supply claim against the operator's meters."""

from __future__ import annotations


from sim.cli import add_output_options
from sim.cli._common import numba_notice, output_folder
from sim.io import atomic_output_dir, check_output_target
from sim.report.verify import summary_text, write_report
from sim.studies.verify import EXIT_STATUS, verify


def configure_parser(parser) -> None:
    """Arguments of ``gxsim verify``."""
    parser.add_argument("claim", help="claim file (TOML)")
    parser.add_argument("--meter", nargs="+", metavar="FILE", default=None,
                        help="meter data (CSV, CSV.gz or Parquet; long or wide); default: "
                        "the claim's [meter_data] files")
    parser.add_argument("--fill", choices=("none", "interpolate", "profile"), default=None,
                        help="gap filling (overrides the claim; filled energy is reported)")
    add_output_options(parser, "results/<claim name>/verify")
    parser.add_argument("--no-plots", action="store_true",
                        help="skip the PNG plots (the HTML report then has no figures)")


def command(args) -> int:
    """Verify, print the summary, write the report atomically; exit 0/1/3 by verdict."""
    out = output_folder(args.output, args.claim, "verify")
    check_output_target(out, overwrite=args.overwrite)  # refused before any work
    with numba_notice("verify"):
        v = verify(args.claim, args.meter, fill=args.fill)
    with atomic_output_dir(out, overwrite=args.overwrite) as tmp:
        files = write_report(v, tmp, plots=not args.no_plots)
    print(summary_text(v))
    print(f"\nWrote {', '.join(files)} to {out}/")
    return EXIT_STATUS[v.verdict]
