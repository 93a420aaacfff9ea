"""``gxsim score``: the programme's figures and a score sheet for a scenario."""

from __future__ import annotations

from sim.cli import add_output_options
from sim.cli._common import numba_notice, output_folder, warn_hints
from sim.core.accounting import ledger, ledger_table
from sim.core.engine import simulate
from sim.errors import InputError
from sim.inputs.scenario import load_scenario
from sim.io import atomic_output_dir, check_output_target, write_json
from sim.programme.evaluate import evaluate_totals
from sim.programme.score import (future_request, load_rubric, requirements, score_sheet,
                                 sheet_frame)
from sim.report.run import write_log
from sim.report.score import html_report, sheet_text
from sim.studies.future import future_study


def configure_parser(parser) -> None:
    """Arguments of ``gxsim score``."""
    parser.add_argument("scenario", help="scenario file (TOML)")
    add_output_options(parser, "results/<scenario name>/score")
    parser.add_argument("--no-future", action="store_true",
                        help="skip the 2030–2050 study (a few seconds); the computed "
                             "items of criterion (7) then score 0, shown as not computed")


def evaluation_units() -> dict[str, str]:
    """Unit of every figure of evaluation.json (docs/figures.md)."""
    from sim.programme.evaluate import FIGURES

    return {k: v[0] for k, v in FIGURES.items()}


def metric_unit(metric) -> str:
    """Unit of a score item's value: the figure's unit (docs/figures.md), '-' for shares."""
    from sim.programme.evaluate import FIGURES

    if not isinstance(metric, str) or not metric:
        return ""
    if metric in FIGURES:
        return FIGURES[metric][0]
    return "-" if metric in ("coverage",) or metric.endswith(("_share", "_rate", "_ratio",
                                                              "utilisation")) else ""


def command(args) -> int:
    """Simulate, evaluate, score; print the sheet and write it atomically.

    Files: ``score.txt`` (the sheet), ``score.json`` (items and totals),
    ``score.csv``, ``evaluation.json`` (every figure), ``projects.csv``
    (finance per project), ``ledger.csv`` (generator × consumer kWh) and
    ``generators.csv`` (per-generator balance). Criterion (7)'s computed items
    run the 2030–2050 study (:func:`sim.studies.future.future_study`) unless ``--no-future``; a study
    that cannot run (e.g. no population projection for the municipality) leaves
    them not computed, with the reason on the sheet.
    """
    out = output_folder(args.output, args.scenario, "score")
    check_output_target(out, overwrite=args.overwrite)  # refused before any work
    scenario = load_scenario(args.scenario)
    warn_hints("score", scenario)
    path = scenario.resolve(scenario.score.rubric) if scenario.score.rubric else None
    rubric = load_rubric(path)
    with numba_notice("score"):
        result = simulate(scenario)
    led = ledger(result)
    ev, proj = evaluate_totals(scenario, led, result.annual, with_projects=True)
    study, note = None, None
    if future_request(rubric)[0]:
        if getattr(args, "no_future", False):
            note = "skipped: --no-future"
        else:
            try:
                with numba_notice("score"):
                    study = future_study(scenario, rubric)
            except InputError as exc:
                note = f"the study could not run: {exc}"
    items = score_sheet(ev, scenario, rubric, future=study, future_note=note)
    text = sheet_text(ev, scenario, items, rubric, future=study, future_note=note)
    years, variants = future_request(rubric)
    with atomic_output_dir(out, overwrite=args.overwrite) as tmp:
        (tmp / "score.txt").write_text(text + "\n", encoding="utf-8")
        frame = sheet_frame(items)
        frame.insert(frame.columns.get_loc("value") + 1, "unit",
                     [metric_unit(m) for m in frame["metric"]])
        frame.to_csv(tmp / "score.csv", index=False)
        write_json(tmp / "score.json", {
            "rubric": {k: rubric.get(k) for k in ("title", "label", "source")},
            "total_points": float(frame["points"].sum()),
            "max_points": float(frame["max_points"].sum()),
            "future": {"computed": study is not None, "years": years,
                       "variants": variants, "note": note},
            # 確認事項 (問7): pass/fail, apart from the points
            "requirements": [vars(r) for r in requirements(ev, scenario)],
            "items": frame.to_dict(orient="records")})
        write_json(tmp / "evaluation.json", {**ev.to_dict(), "units": evaluation_units()})
        proj.to_csv(tmp / "projects.csv")
        led.to_pandas().rename_axis(index="generator [kWh delivered to each consumer]").to_csv(
            tmp / "ledger.csv", float_format="%.3f")
        gens = ledger_table(led)
        gens.rename(columns={c: f"{c}_kwh" for c in gens.columns
                             if gens[c].dtype.kind == "f"}).to_csv(
            tmp / "generators.csv", float_format="%.3f")
        html_report(tmp, ev, scenario, items, rubric, future=study, future_note=note)
        write_log(tmp, "score", {**result.timings, **(
            {f"future {k}": v for k, v in study.timings.items()} if study else {})})
    print(text)
    print(f"\nWrote score.txt, score.json, score.csv, evaluation.json, projects.csv, "
          f"ledger.csv, generators.csv, report.html, run.log to {out}/")
    return 0
