"""Physics: weather in, kWh per hour out.

Owns the generation models (solar through pvlib per orientation group, wind
at hub height through turbine power curves, biomass, waste with its biomass
and plastic shares) and the demand shapes of each consumer archetype. Pure
functions of arrays and validated scenario rows: no programme rules, no
dispatch. May import :mod:`sim.inputs` (and :mod:`sim.errors`).
"""
