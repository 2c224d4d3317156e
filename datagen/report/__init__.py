"""The dataset report: one self-contained HTML page of a version (funnel, lengths, verb-noun structure,
novelty against the seeds, method mix, teacher usage, turns, and a searchable sample of kept and
rejected records).

Public API:
    build_report(version, prices=None, diff=None, students=None) -> str    the page's HTML
    write_report(version, out, prices=None, diff=None, students=None) -> Path   written atomically
    analyse(version, prices=None, seed=0, diff=None, students=None) -> dict    the figures behind the page

Modules: build.py (the analyses and the two entry points), scan.py (one batch-by-batch pass over a
version), reservoir.py (seeded reservoir sampling, Algorithm L), page.py + page.html (SVG charts and
the Jinja page template).
"""
from datagen.report.build import analyse, build_report, write_report

__all__ = ["analyse", "build_report", "write_report"]
