"""The Sobol sweeper plugin for Hydra (``hydra/sweeper=sobol``); see ``sobol_sweeper``."""
