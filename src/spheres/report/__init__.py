"""The what-if report of one or several collected sweeps, composed from analysis/ and studies/.

- ``sweep``: the collected stores read into one :class:`~spheres.report.sweep.Sweep`, its
  scenarios named and the baseline picked.
- ``outcomes``: the outcomes compared, their estimates and differences, and how a difference reads.
- ``figures``: the report's figures (survival, market share, currency flows, outcomes, Sobol).
- ``whatif``: the report's document: what was compared and what it says.
- ``study``: the opening section of a named study's sweep, and ``study.json``.
- ``writers``: the document as Markdown and self-contained HTML, and its files.
- ``cli``: ``write_report`` and the ``spheres report`` command.
"""
