"""spheres: an agent-based market of buyers, sellers and influencers talking on a social network.

The public face: ``simulate`` (config in, ``Results`` out), ``make_config`` (a validated config
from defaults and overrides) and ``MarketModel`` (one simulation, step by step). The rooms:
``config`` (every setting), ``model`` (one simulation), ``run`` (a run's results and files),
``sweeps`` (many runs through Hydra), ``analysis``, ``studies`` and ``report`` (reading sweeps),
``bench`` (speed tables), ``viz`` (the classroom page) and ``cli`` (the ``spheres`` command).
"""

from spheres.config import ConfigError, SpheresConfig, make_config
from spheres.model.model import MarketModel
from spheres.run.simulate import simulate
from spheres.run.tables import Results

__all__ = ["ConfigError", "MarketModel", "Results", "SpheresConfig", "make_config", "simulate"]
__version__ = "0.1.0"
