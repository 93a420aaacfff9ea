"""The one HTML style of every gxsim report, and the formatting of figures in it.

Each command's report module builds its *content* (a list of :class:`Section`,
made with :func:`table`, :func:`figure`, :func:`bullets` and plain HTML) and
hands it to :func:`render_page`, which fills the shared jinja2 template
``templates/report.html``. Content stays with each command; the look is here.

Numbers are written for people: energy in MWh with one decimal and thousands
separators (the column header says ``[MWh]``), shares in %, money in JPY
without decimals, every figure with its unit.
"""

from __future__ import annotations

import html as _html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class Section:
    """One titled part of a report; ``html`` is trusted markup built by this module."""

    title: str
    html: str
    id: str | None = None


def escape(text) -> str:
    """Text made safe for HTML."""
    return _html.escape(str(text))


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt_number(value, digits: int = 1, unit: str = "") -> str:
    """``1234567.891`` → ``1,234,567.9`` (+ unit); NaN or None → ``—``."""
    if value is None or isinstance(value, str):
        return "—" if value is None else value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if not _finite(value):
        return "∞" if value == math.inf else "—"
    text = f"{float(value):,.{digits}f}"
    return f"{text} {unit}".rstrip()


def fmt_energy(kwh, unit: str = "MWh") -> str:
    """Energy given in kWh, shown in MWh with one decimal (or kWh / GWh if asked)."""
    scale = {"kWh": 1.0, "MWh": 1e3, "GWh": 1e6}[unit]
    return fmt_number(None if kwh is None else float(kwh) / scale, 1, unit)


def fmt_share(value, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: ``0.4531`` → ``45.3 %``."""
    if value is None or not _finite(value):
        return "—"
    return f"{float(value) * 100:,.{digits}f} %"


#: column-name endings → (header unit, formatter of one value)
_COLUMN_RULES = [
    ("_kg_per_kwh", "kg-CO2/kWh", lambda v: f"{float(v):.4g}" if _finite(v) else "—"),
    ("_kwh", "MWh", lambda v: fmt_number(v / 1e3 if _finite(v) else v, 1)),
    ("_jpy", "JPY", lambda v: fmt_number(v, 0)),
    ("_kw", "kW", lambda v: fmt_number(v, 0)),
    ("_t", "t-CO2", lambda v: fmt_number(v, 1)),
    ("_years", "yr", lambda v: fmt_number(v, 1)),
    ("_ratio", "×", lambda v: fmt_number(v, 2)),
    ("_share", "%", lambda v: fmt_share(v)),
    ("_rate", "%", lambda v: fmt_share(v)),
    ("utilisation", "%", lambda v: fmt_share(v)),
]


def fmt_figure(key: str, value, unit: str = "") -> str:
    """One programme figure with its unit (``unit`` as in sim.programme.evaluate.FIGURES):
    kWh in MWh, shares in %, money without decimals, years as years."""
    if value is None or isinstance(value, str):
        return "—" if value is None or value == "" else value
    if isinstance(value, (bool, np.bool_)) or unit == "bool":
        return "yes" if value else "no"
    if key == "year" or (isinstance(value, (int, np.integer)) and unit in ("", "-")):
        return str(int(value))
    if unit.startswith("kWh"):
        return fmt_energy(value) + unit[3:]
    if unit in ("-", "1", "") and key.endswith(("_rate", "_share", "_annual", "_hourly")) or (
            key.startswith("coverage") or key == "grant_rate"):
        return fmt_share(value)
    if unit in ("-", "1", ""):
        return fmt_number(value, 2, "×" if key.endswith("_ratio") else "")
    if unit.startswith("JPY"):
        return fmt_number(value, 0, unit)
    if unit == "kg-CO2/kWh":
        return f"{float(value):.4g} {unit}" if _finite(value) else "—"
    return fmt_number(value, 0 if unit == "kW" else 1, unit)


def column_rule(name: str):
    """(unit, formatter) for a column by its name, or None."""
    if "_per_t_co2" in str(name) and str(name).endswith("_jpy"):
        return "JPY/t-CO2", lambda v: fmt_number(v, 0)
    for ending, unit, fmt in _COLUMN_RULES:
        if str(name).endswith(ending):
            return unit, fmt
    return None


def table(df: pd.DataFrame, *, index: bool = False, formats: dict | None = None,
          units: dict | None = None, bad_rows=None, caption: str | None = None) -> str:
    """A DataFrame as an HTML table inside a scrolling container.

    Parameters
    ----------
    df : pandas.DataFrame
    index : bool
        Show the index as the first column(s).
    formats : dict, optional
        Column → callable(value) -> str; overrides the rules by column name
        (``*_kwh`` in MWh, ``*_share``/``*_rate`` in %, ``*_jpy``, ``*_kw`` …).
    units : dict, optional
        Column → unit shown in its header (for columns the name rules miss).
    bad_rows : sequence of bool, optional
        Rows highlighted as failing.
    caption : str, optional
    """
    formats, units = dict(formats or {}), dict(units or {})
    frame = df.reset_index() if index else df
    heads, cells = [], []
    for col in frame.columns:
        rule = column_rule(col)
        fmt = formats.get(col) or (rule[1] if rule else None)
        unit = units.get(col, rule[0] if rule and col not in formats else "")
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(
            frame[col])
        if fmt is None:
            if pd.api.types.is_integer_dtype(frame[col]) and not str(col).lower() in (
                    "year", "case", "month", "hour"):
                fmt = lambda v: fmt_number(v, 0)  # noqa: E731
            elif numeric and not pd.api.types.is_integer_dtype(frame[col]):
                fmt = lambda v: _auto(v)  # noqa: E731
            else:
                fmt = lambda v: fmt_number(v) if isinstance(v, (bool, np.bool_)) else (  # noqa: E731
                    "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
        cls = ' class="num"' if numeric or col in formats else ""
        heads.append(f"<th{cls}>{escape(_display_name(col, rule, col in formats))}"
                     f"{f' [{escape(unit)}]' if unit else ''}</th>")
        cells.append((fmt, cls))
    rows = []
    bad = list(bad_rows) if bad_rows is not None else [False] * len(frame)
    for i, rec in enumerate(frame.itertuples(index=False)):
        tds = "".join(f"<td{cls}>{escape(fmt(v))}</td>" for v, (fmt, cls) in zip(rec, cells))
        rows.append(f'<tr class="bad">{tds}</tr>' if bad[i] else f"<tr>{tds}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table>{cap}<thead><tr>{"".join(heads)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


_UNIT_SUFFIXES = ("_kwh", "_jpy", "_kw", "_t", "_years", "_kg_per_kwh")


def _display_name(col, rule, overridden: bool) -> str:
    """A header without the unit suffix the header's [unit] replaces (``demand_kwh`` →
    ``demand [MWh]``)."""
    name = str(col)
    if rule is None or overridden:
        return name
    for ending, unit, _ in _COLUMN_RULES:
        if ending in _UNIT_SUFFIXES and unit == rule[0] and name.endswith(ending):
            return name[: -len(ending)]
    if "_per_t_co2" in name and name.endswith("_jpy"):
        return name[: -len("_jpy")]
    return name


def _auto(value) -> str:
    """A float with precision by size: 12,345 · 123.4 · 1.23 · 0.0123."""
    if not _finite(value):
        return fmt_number(value)
    a = abs(float(value))
    digits = 0 if a >= 1000 else 1 if a >= 10 else 2 if a >= 0.1 or a == 0 else 4
    return fmt_number(value, digits)


def key_values(rows: list[tuple[str, str]]) -> str:
    """A two-column table of label → formatted value (values already carry units)."""
    num = ' class="num"'
    body = "".join(f'<tr><th class="key">{escape(k)}</th>'
                   f'<td{num if len(str(v)) <= 48 else ""}>{escape(v)}</td></tr>'
                   for k, v in rows)
    return f'<div class="table-wrap"><table><tbody>{body}</tbody></table></div>'


def figure(path: Path, caption: str) -> str:
    """A PNG written beside the report, embedded so the page stands alone.

    The caption names the file (also in the folder, full resolution)."""
    import base64

    path = Path(path)
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)} — {escape(path.name)}</figcaption></figure>")


def bullets(items, cls: str = "notes", empty: str = "none") -> str:
    """A list of plain-text lines."""
    items = list(items)
    if not items:
        return f"<p>{escape(empty)}</p>"
    return f'<ul class="{cls}">' + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def paragraph(text: str) -> str:
    """Plain text as a paragraph."""
    return f"<p>{escape(text)}</p>"


def render_page(*, command: str, title: str, sections: list[Section], lead: str = "",
                source: str | None = None, notes=()) -> str:
    """The whole report page in the shared style.

    Parameters
    ----------
    command : str
        ``run``, ``score``, ``future``, ``sweep`` or ``verify``.
    title, lead : str
        Heading and the line under it.
    sections : list of Section
    source : str, optional
        The input file, shown in the header.
    notes : iterable of str
        Repairs, assumptions and warnings, listed last.
    """
    import jinja2

    from sim._version import __version__

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]))
    return env.get_template("report.html").render(
        command=command, title=title, lead=lead, sections=sections,
        source=source, notes=list(notes), version=__version__)


def write_page(folder: Path, **kwargs) -> str:
    """Render with :func:`render_page` into ``folder/report.html``; returns the name."""
    (Path(folder) / "report.html").write_text(render_page(**kwargs), encoding="utf-8")
    return "report.html"
