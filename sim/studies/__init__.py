"""Studies: work that wraps the kernel many times, returning data objects.

Owns batch sweeps (with their batch kernel and Dask), the 2030–2050
sensitivity study, the verification of an island claim against meter data and
the least-cost sizing of :mod:`sim.studies.optimize` (on the sweep's kernel).
Each returns data (an xarray Dataset or a result object); none prints or
renders: that is :mod:`sim.report`. May import :mod:`sim.programme`,
:mod:`sim.core`, :mod:`sim.physics` and :mod:`sim.inputs`.
"""
