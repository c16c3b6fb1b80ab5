"""Speed tables: the engines, the buyer graph and a sweep's launchers, each measured by a command.

- ``engines``: ``spheres bench``: both engines by buyers and sellers, and the bare diffusion job
  beside a plain numpy version of it (each run in its own process).
- ``graphs``: building each network kind and loading an edge list (``spheres bench --graphs``).
- ``sweeps``: ``spheres bench-sweep``: one sweep on 1 and 2 processes and through submitit.

This package's ``__init__`` imports nothing, so that its modules can import each other.
"""
