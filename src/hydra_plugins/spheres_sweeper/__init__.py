"""The default sweeper of ``spheres run -m`` (``hydra/sweeper=spheres``): ``spheres_sweeper``."""
