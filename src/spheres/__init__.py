"""spheres: an agent-based market of buyers, sellers and influencers talking on a social network.

The package's rooms: ``config`` (every setting), ``model/`` (one simulation), ``results`` (a run's
tables and files), ``simulate`` (config in, results out), ``cli`` (the ``spheres`` command),
``verify`` (engine equality) and ``bench`` (the speed table).
"""

from spheres.config import ConfigError, SpheresConfig, make_config
from spheres.model.model import MarketModel
from spheres.results import Results
from spheres.simulate import simulate

__all__ = ["ConfigError", "MarketModel", "Results", "SpheresConfig", "make_config", "simulate"]
__version__ = "0.1.0"
