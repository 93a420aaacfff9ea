"""Scenario builder of the programme tests: the core tests' builder with a stated
emission factor (問28: a factor always comes with its source; region "P県" has no
row in profiles/emission_factors)."""

from core.test_accounting import scenario as _scenario

#: the factor the hand-worked tests use unless they give their own
FACTOR = {"emission_factor_kg_per_kwh": 0.5, "emission_factor_source": "test figure"}


def scenario(consumers, generators=(), storage=(), **sections):
    """:func:`core.test_accounting.scenario` with ``FACTOR`` in ``[accounting]``."""
    acc = dict(FACTOR, **sections.pop("accounting", {}))
    if "emission_factor_area" in acc:
        acc.pop("emission_factor_kg_per_kwh"), acc.pop("emission_factor_source")
    return _scenario(consumers, generators, storage, accounting=acc, **sections)
