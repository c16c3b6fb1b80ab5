"""One run: ``simulate`` (config in, results out) and what a run makes of its results.

- ``simulate``: build the model, run every step, assemble the results (no Hydra).
- ``tables``: ``Results`` and ``assemble(model)``: a run's tables and summary.
- ``files``: the run directory (checked, cleared) and writing the results into it.
- ``dashboard``: the run's dashboard figure.
- ``text``: the summary as the text ``spheres run`` prints.
- ``task``: one run into its directory, with its progress and log, as ``spheres run`` does it.

``spheres.simulate`` and ``spheres.Results`` are the public names; this package's ``__init__``
imports nothing, so that its modules can import each other without a circle.
"""
