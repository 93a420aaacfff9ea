"""Inputs: everything gxsim reads, checked before it is used.

Owns the scenario, claim and rubric schemas (pydantic) and TOML loading, the
weather readers (EPW, TMY2/TMY3, CSV, the embedded synthetic year), the meter
data readers and the location of the data shipped in ``profiles/``. Nothing
here simulates, dispatches or scores. May import only :mod:`sim.errors` and
:mod:`sim.io`; every other package of ``sim`` may import this one.
"""
