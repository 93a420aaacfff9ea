"""Programme: the Decarbonization Leading Areas rules turned into figures.

Owns the accounting rules of the FAQ (問24–46), ``evaluate`` (annual totals to
the programme's figures), finance (capex, grants, payback, cost per t-CO2) and
the score sheet. Every figure here cites its FAQ question or scoring-table
line. May import :mod:`sim.core` and :mod:`sim.inputs`; it never runs a study
(a study's result is passed in).
"""
