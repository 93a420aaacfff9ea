"""Core: the numba matching kernel, ``match``, ``simulate`` and attribution.

Owns the dispatch semantics (on-site use, batteries, regional pool, community
battery, grid top-up), the arrays-to-xarray ``Result`` of a year and the
attribution of every delivered kWh to its generator. Arrays and labelled
results only: no programme figures, no scoring, no files written. May import
:mod:`sim.physics` and :mod:`sim.inputs`.
"""
