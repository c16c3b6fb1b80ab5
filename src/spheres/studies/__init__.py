"""The named studies: the analysis answering each question of ``configs/experiment/q*.yaml``.

- ``registry``: ``STUDIES`` (experiment name -> study) and ``study_of`` (the study of a sweep).
- ``base``: what every study shares: its findings (figures, key numbers, readings) and the
  sentences that read an estimate.
- ``figures``: figures several studies draw alike.
- ``q1_decline`` ... ``q7_trust``: one module per question; each reads only ``sweep.duckdb``,
  through :mod:`spheres.analysis`.
"""
