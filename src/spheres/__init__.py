"""spheres: an agent-based market of buyers, sellers and influencers talking on a social network."""

from spheres.config import ConfigError, SpheresConfig
from spheres.simulate import Results, simulate

__all__ = ["ConfigError", "Results", "SpheresConfig", "simulate"]
__version__ = "0.1.0"
