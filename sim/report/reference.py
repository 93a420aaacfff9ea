"""The field reference ``docs/scenario.md``, generated from the pydantic schemas.

Every field of a scenario (with its ``[future]`` and ``[sweep]`` sections), a
claim and a rubric: type and allowed values, unit, default, description and an
example (taken from the shipped files where they use the field). The schema
walk is generic, so a field added to a model appears here after
``python -m sim.report.reference`` (``--check`` exits 1 when the file is stale;
``tests/test_docs.py`` runs that check).
"""

from __future__ import annotations

import fnmatch
import inspect
import re
import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel

from sim.inputs.paths import PROFILES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs/scenario.md"

#: unit from the end of a field name (longest first)
_SUFFIX_UNITS = [("_jpy_per_kw_year", "JPY/(kW·yr)"), ("_jpy_per_kwh_year", "JPY/(kWh·yr)"),
                 ("_jpy_per_kwh", "JPY/kWh"), ("_jpy_per_kw", "JPY/kW"),
                 ("_kg_per_kwh", "kg-CO2/kWh"), ("_kwh", "kWh"), ("_kw", "kW"),
                 ("_jpy", "JPY"), ("_years", "yr"), ("_percent", "%"), ("_m", "m"),
                 ("_share", "share 0–1"), ("_rate", "share 0–1"), ("_factor", "×"),
                 ("_elasticity", "exponent")]


def _unwrap(ann):
    """(core annotation, constraint metadata, optional?) of an annotation."""
    meta, optional = [], False
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            args = typing.get_args(ann)
            for m in args[1:]:
                meta += list(getattr(m, "metadata", []) or []) + [m]
            ann = args[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(ann))
            if len(args) == 1:
                ann = args[0]
            else:
                return ann, meta, optional
        else:
            return ann, meta, optional


def _bounds(meta) -> str:
    parts = {}
    for m in meta:
        for key, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            v = getattr(m, key, None)
            if v is not None and not isinstance(v, bool):
                parts[key] = f"{sym} {v:g}" if isinstance(v, (int, float)) else f"{sym} {v}"
        if getattr(m, "min_length", None):
            parts["min_length"] = f"at least {m.min_length}"
    return ", ".join(parts.values())


def _annotation(model, name: str, field):
    """A field's annotation, with forward references (``list[ClaimGenerator]``) resolved."""
    if "ForwardRef" not in repr(field.annotation):
        return field.annotation
    try:
        return typing.get_type_hints(model, include_extras=True)[name]
    except Exception:  # noqa: BLE001 - an unresolvable hint is shown as written
        return field.annotation


def _model_of(ann):
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _union_models(ann) -> list[type[BaseModel]]:
    core, _, _ = _unwrap(ann)
    if typing.get_origin(core) in (typing.Union, types.UnionType):
        return [m for m in typing.get_args(core) if _model_of(m)]
    return []


def _type_text(ann, meta, anchors) -> str:
    """A short type description with the allowed values."""
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{_toml(v)}`" for v in typing.get_args(ann))
    if origin in (list, tuple):
        (inner, *_) = typing.get_args(ann) or (typing.Any,)
        core, imeta, _ = _unwrap(inner)
        if _union_models(inner):
            return "array of tables: " + ", ".join(
                f"[{m.__name__}](#{anchors.get(m, m.__name__.lower())})"
                for m in _union_models(inner))
        if _model_of(core):
            return f"array of tables ([{core.__name__}](#{anchors.get(core, '')}))"
        return f"list of {_type_text(core, imeta, anchors)}"
    if origin is dict:
        _, value = typing.get_args(ann)
        core, vmeta, _ = _unwrap(value)
        if _model_of(core):
            return f"table of id → [{core.__name__}](#{anchors.get(core, '')})"
        return f"table of name → {_type_text(core, vmeta, anchors)}"
    if _model_of(ann):
        return f"table ([{ann.__name__}](#{anchors.get(ann, '')}))"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(*_unwrap(a)[:2], anchors) for a in typing.get_args(ann))
    name = {float: "number", int: "integer", str: "text", bool: "true/false"}.get(
        ann, getattr(ann, "__name__", str(ann)))
    bounds = _bounds(meta)
    return f"{name} ({bounds})" if bounds else name


def _unit(name: str, description: str) -> str:
    found = re.findall(r"\[([^\[\]]+)\]\s*$", description or "") or re.findall(
        r"^\[([^\[\]]+)\]", description or "")
    if found:
        return found[-1]
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, BaseModel):
        return "{…}"
    return str(value)


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        try:
            value = field.default_factory()
        except TypeError:
            return "—"
        if isinstance(value, BaseModel):
            changed = value.model_dump(exclude_defaults=True)
            return f"`{_toml(changed)}`" if changed else "—"
        if value in ([], {}):
            return "—"
        return f"`{_toml(value)}`"
    return "—" if field.default is None else f"`{_toml(field.default)}`"


def _flatten(data, prefix: str, out: dict) -> None:
    """``path -> first value`` of a TOML document; list items share their list's path,
    tables with a ``kind`` get it as a path segment."""
    if isinstance(data, dict):
        kind = data.get("kind") if isinstance(data.get("kind"), str) else None
        base = f"{prefix}.{kind}" if kind and prefix else prefix
        for k, v in data.items():
            path = f"{base}.{k}" if base else str(k)
            if isinstance(v, (dict, list)) and v and all(isinstance(x, dict) for x in (
                    v if isinstance(v, list) else [v])):
                _flatten(v, path, out)
            out.setdefault(path, v)
    elif isinstance(data, list):
        for item in data:
            _flatten(item, prefix, out)


def shipped_examples() -> dict:
    """Values used by the shipped scenarios, claims and rubrics, by field path."""
    import tomllib

    out: dict = {}
    files = sorted((ROOT / "scenarios").glob("*.toml")) + sorted(
        (ROOT / "examples").rglob("*.toml"))
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        root = "claim" if "claimed" in data else "scenario"
        _flatten(data, root, out)
    for path in sorted((PROFILES / "rubric").glob("*.toml")):
        _flatten(tomllib.loads(path.read_text(encoding="utf-8")), "rubric", out)
    return out


def _example(path: str, name: str, field, core, examples: dict, meta=(), key: str = "") -> str:
    pattern = f"{path}.{name}"
    for found, value in examples.items():
        if fnmatch.fnmatchcase(found, pattern) and not isinstance(value, (dict,)) and not (
                isinstance(value, list) and value and isinstance(value[0], dict)):
            return f"`{name} = {_toml(value)}`"
    if not field.is_required() and field.default not in (None, [], {}) and not isinstance(
            field.default, BaseModel) and field.default_factory is None:
        return f"`{name} = {_toml(field.default)}`"
    value = _synth(name, core, list(meta))
    if value is _NONE:
        return ""
    if isinstance(value, str) and value.startswith("["):  # a table header
        return f"`{value.replace('…', f'{key}.' if key else '')}`"
    return f"`{name} = {_toml(value)}`"


_NONE = object()


def _synth(name: str, core, meta):
    """An example value made from the type when no shipped file uses the field."""
    origin = typing.get_origin(core)
    if origin is typing.Literal:
        return typing.get_args(core)[-1]
    if origin in (list, tuple):
        inner, imeta, _ = _unwrap((typing.get_args(core) or (str,))[0])
        if _model_of(inner) or _union_models(inner):
            return f"[[…{name}]]"
        item = _synth(name, inner, imeta)
        if "year" in name:
            return [2030, 2040, 2050]
        return _NONE if item is _NONE else [item]
    if origin is dict:
        value = _unwrap(typing.get_args(core)[1])[0]
        return f"[…{name}.<id>]" if _model_of(value) else {"<id>": _synth(name, value, [])}
    if _model_of(core):
        return f"[…{name}]"
    low = {k: getattr(m, k) for m in meta for k in ("ge", "gt") if getattr(m, k, None)
           is not None}
    if core is bool:
        return True
    if core is int:
        return 2030 if "year" in name else int(max(low.values(), default=1) or 1)
    if core is float:
        return 0.5 if any(getattr(m, "le", None) == 1 for m in meta) else 1.0
    if core is str:
        if any(w in name for w in ("file", "table", "projection", "costs", "source")):
            return "data.csv"
        if name in ("rubric",):
            return "my_rubric.toml"
        return "<id>" if name in ("id", "consumer", "into", "site") else f"<{name}>"
    return _NONE


TABLE_HEAD = "| field | type and allowed values | unit | default | description | example |"


class _Writer:
    """Walks models depth first; each model is written once, later uses link to it."""

    def __init__(self, examples: dict):
        self.examples = examples
        self.anchors: dict[type, str] = {}
        self.lines: list[str] = []
        self.written: set[type] = set()

    def anchor(self, model: type, path: str) -> str:
        if model not in self.anchors:
            self.anchors[model] = re.sub(r"[^a-z0-9]+", "-", path.lower().replace(
                "scenario.", "")).strip("-") or model.__name__.lower()
        return self.anchors[model]

    def model(self, model: type, path: str, heading: str, toml: str, level: int = 3,
              key: str = "") -> None:
        anchor = self.anchor(model, path)
        self.written.add(model)
        base = next((b for b in model.__mro__[1:] if b in self.written and b is not model
                     and _model_of(b) and b.__name__[0] != "_"), None)
        doc = inspect.cleandoc(model.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        self.lines += [f'<a id="{anchor}"></a>', "", f"{'#' * level} {heading}", "",
                       f"`{toml}` — {doc}" if toml else doc, ""]
        fields = model.model_fields
        if base is not None:
            self.lines += [f"Every field of [{base.__name__}](#{self.anchors[base]}), and:", ""]
            fields = {k: v for k, v in fields.items() if k not in base.model_fields}
        self.lines += [TABLE_HEAD, "|---|---|---|---|---|---|"]
        children = []
        for name, field in fields.items():
            core, meta, _ = _unwrap(_annotation(model, name, field))
            meta = list(field.metadata) + meta
            for sub in self._nested(core, f"{path}.{name}", f"{key}.{name}".strip(".")):
                children.append(sub)
            desc = field.description or ""
            sub = _model_of(core)
            if not desc and sub is not None:
                desc = inspect.cleandoc(sub.__doc__ or "").split("\n\n")[0]
            desc = desc.replace("|", "\\|").replace("\n", " ")
            self.lines.append(
                f"| `{name}` | {_type_text(core, meta, self.anchors)} | "
                f"{_unit(name, desc)} | {_default(field)} | {desc} | "
                f"{_example(path, name, field, core, self.examples, meta, key)} |")
        self.lines.append("")
        for sub_model, sub_path, sub_heading, sub_toml, sub_key in children:
            if sub_model not in self.written:
                self.model(sub_model, sub_path, sub_heading, sub_toml, min(level + 1, 4),
                           sub_key)

    def _nested(self, core, path: str, toml: str):
        """Sub-models of a field: (model, path, heading, TOML header)."""
        origin = typing.get_origin(core)
        if _model_of(core):
            self.anchor(core, path)
            yield core, path, f"`[{toml}]`", f"[{toml}]", toml
        elif origin in (list, tuple) and typing.get_args(core):
            inner = typing.get_args(core)[0]
            members = _union_models(inner)
            if members:
                for m in members:
                    kind = typing.get_args(m.model_fields["kind"].annotation)[0] if (
                        "kind" in m.model_fields) else m.__name__
                    self.anchor(m, f"{path}.{kind}")
                    yield (m, f"{path}.{kind}", f'`[[{toml}]]` kind = "{kind}"', f"[[{toml}]]",
                           toml)
            else:
                m = _model_of(_unwrap(inner)[0])
                if m:
                    self.anchor(m, path)
                    yield m, path, f"`[[{toml}]]`", f"[[{toml}]]", toml
        elif origin is dict:
            m = _model_of(_unwrap(typing.get_args(core)[1])[0])
            if m:
                self.anchor(m, f"{path}.*")
                yield m, f"{path}.*", f"`[{toml}.<id>]`", f"[{toml}.<id>]", f"{toml}.<id>"


def archetype_table() -> list[str]:
    """Archetypes with their annual load factor (mean / peak hour, 2023) and source."""
    import pandas as pd

    from sim.inputs.scenario import DEFAULT_ARCHETYPE, known_archetypes
    from sim.physics.demand import archetype_shape

    status = {}
    readme = (PROFILES / "demand" / "README.md").read_text(encoding="utf-8")
    for row in re.findall(r"^\| `(\w+)` \| (.*) \| ([^|]*) \|$", readme, flags=re.M):
        basis = re.split(r"(?<=[a-z)])[.:;] ", row[1].strip(), maxsplit=1)[0]
        basis = basis if len(basis) <= 140 else basis[:139].rsplit(" ", 1)[0] + " …"
        status[row[0]] = f"{basis} ({row[2].strip()})"
    index = pd.date_range("2023-01-01", periods=8760, freq="h", tz="Asia/Tokyo")
    default_of = {}
    for sector, arch in DEFAULT_ARCHETYPE.items():
        default_of.setdefault(arch, []).append(sector)
    lines = ["| archetype | load factor (mean / peak hour, 2023) | default for sector | source |",
             "|---|---|---|---|"]
    for name in known_archetypes():
        shape = archetype_shape(name, index)
        lf = float(shape.mean() / shape.max())
        sectors = ", ".join(f"`{s}`" for s in default_of.get(name, [])) or "—"
        lines.append(f"| `{name}` | {lf:.0%} | {sectors} | "
                     f"{status.get(name, 'see profiles/demand/README.md')} |")
    return lines


def _rubric_lines() -> list[str]:
    """The rubric file's fields (its schema lives in sim.programme.score)."""
    from sim.programme import score

    models = [m for _, m in inspect.getmembers(score, inspect.isclass)
              if _model_of(m) and m.__module__ == score.__name__ and m.__name__ == "Rubric"]
    if models:
        w = _Writer(shipped_examples())
        w.model(models[0], "rubric", "Rubric file", "", level=3)
        return w.lines
    return [
        "A rubric is a TOML file read by `sim.programme.score.load_rubric` (default "
        "`profiles/rubric/default.toml`, gxsim's own illustration: the programme "
        "publishes no formula from figures to points).", "",
        "| field | type and allowed values | unit | default | description | example |",
        "|---|---|---|---|---|---|",
        "| `title`, `label`, `source` | text | | — | shown on the score sheet | "
        "`label = \"project's own illustration\"` |",
        "| `[[criteria]]` `id`, `ja`, `en` | text | | **required** `id` | a criterion of "
        "the scoring table | `id = \"4\"` |",
        "| `criteria.points` | number (≥ 0) | points | sum of its items | must equal the "
        "sum of the items' points | `points = 15` |",
        "| `[[criteria.items]]` `id`, `label` | text | | **required** `id` | one item | "
        "`id = \"self_consumption\"` |",
        "| `criteria.items.kind` | one of `\"computed\"`, `\"declared\"` | | **required** | "
        "computed from a figure, or taken from `[score] declared` | `kind = \"computed\"` |",
        "| `criteria.items.points` | number (≥ 0) | points | **required** | maximum points "
        "| `points = 5` |",
        "| `criteria.items.metric` | an Evaluation figure, `coverage`, or `future.<variable>` "
        "| | required if computed | the figure scored | `metric = \"self_consumption_rate\"` |",
        "| `criteria.items.better` | one of `\"higher\"`, `\"lower\"` | | required if "
        "computed | direction | `better = \"higher\"` |",
        "| `criteria.items.steps` | list of [threshold, points] | figure's unit | required "
        "if computed | points of the best threshold reached | `steps = [[0.3, 2], [0.5, 5]]` |",
        "| `criteria.items.variant` | one of `\"reference\"`, `\"harsher\"`, `\"milder\"` | "
        "| `\"harsher\"` | future items: the projection variant | `variant = \"harsher\"` |",
        "| `criteria.items.years` | list of integers | year | `[2050]` | future items: "
        "study years, the worst counts | `years = [2040, 2050]` |", ""]


INTRO = """# Field reference: scenarios, claims, sweeps, future studies, rubrics

<!-- GENERATED by `python -m sim.report.reference` from the pydantic models in
sim/inputs/scenario.py and sim/inputs/claim.py: do not edit by hand;
tests/test_docs.py fails when this file is stale. -->

Scenario files are TOML, validated by the schema in `sim/inputs/scenario.py`;
a claim (`gxsim verify`) by `sim/inputs/claim.py`. Conventions for every row:

* every quantity on a row is the row's **total**: a group of 2,000 households
  with `count = 2000` has the `annual_kwh` of all 2,000 together, and a
  generator's `capacity_kw` is the whole installed capacity;
* units are in the field names (`_kw`, `_kwh`, `_m`, `_jpy`); shares are
  fractions in [0, 1], never percent (except `losses_percent`);
* file paths are relative to the scenario file;
* unknown fields are errors (with a "did you mean" hint), and every problem of a
  file is listed at once, one line each, naming the file and the field or row.

Two settings change results more than their size suggests:

* **`[grid] isolated`** (default `false`). On an island grid (`isolated = true`)
  the grid operator ties renewable output to civil demand **hour by hour**
  (問46): the balance, the CO2 basis, the emission factor default and the score
  sheet's coverage all follow the hourly view. Left at `false`, an island is
  judged on annual netting and its verdict changes silently — gxsim warns when
  the region's name says 離島/island or `must_run_kw` is set but `isolated` is not.
* **`site`**. A generator with `site = "<consumer id>"` is on-site at that
  consumer (its energy meets that row's demand first, then its surplus goes to
  the pool); without `site` it is off-site and feeds the regional pool. A
  battery with `site = "<consumer id>"` is that consumer's; `site = "community"`
  makes it the **community battery**: it charges from the pool's leftover and
  discharges to every consumer's remaining deficit, pro rata (docs/design.md
  section 4, step 6). Several community rows add up to one battery.

Contents: [scenario](#scenario) · [archetypes](#archetypes) ·
[future study](#future) · [sweeps](#sweep) · [claims](#claims) · [rubrics](#rubrics)
"""


def render() -> str:
    """The whole reference as Markdown."""
    from sim.inputs.claim import Claim
    from sim.inputs.scenario import Scenario

    examples = shipped_examples()
    w = _Writer(examples)
    w.lines += [INTRO]
    w.model(Scenario, "scenario", "Scenario file", "", level=2)
    lines = w.lines
    lines += ['<a id="archetypes"></a>', "", "## Demand archetypes", "",
              "`consumers.archetype` names the hourly shape of a row with `annual_kwh`; "
              "the default depends on `sector`. Load factor = mean hour / peak hour of "
              "the shape in 2023 (before `temperature_sensitivity`). Shapes and their "
              "sources: profiles/demand/README.md.", "", *archetype_table(), ""]
    cw = _Writer(examples)
    cw.anchors = dict(w.anchors)  # shared models link to the scenario's sections
    cw.written = set(w.written)
    cw.lines = ['<a id="claims"></a>', "",
                "A claim repeats a scenario's region, consumers and generators, each "
                "with the `meter` id of its data, and adds the declared figures, "
                "tolerances, data-quality limits and the meter data convention. See "
                "also [verify.md](verify.md).", ""]
    cw.model(Claim, "claim", "Claim file (`gxsim verify`)", "", level=2)
    lines += cw.lines
    lines += ['<a id="rubrics"></a>', "", "## Rubric file (`[score] rubric`)", "",
              *_rubric_lines()]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.report.reference [--check]``: write or check docs/scenario.md."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC.relative_to(ROOT)} is stale: run python -m sim.report.reference",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
