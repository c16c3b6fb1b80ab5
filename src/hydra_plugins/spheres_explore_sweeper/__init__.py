"""The exploration sweeper plugin for Hydra (``hydra/sweeper=explore``); see ``explore_sweeper``."""
