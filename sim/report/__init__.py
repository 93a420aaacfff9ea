"""Report: terminal summaries, plots and HTML pages of every result.

Owns how results look: text summaries, matplotlib figures and the HTML
reports of run, score, future, sweep and verify. Reads results, never
computes programme figures of its own. May import every package below it
(studies, programme, core, physics, inputs).
"""
