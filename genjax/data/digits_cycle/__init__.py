"""The embedded two-domain `digits_cycle` TFDS dataset; importing this registers it.

`appearance` holds the known map between its domains (T, T^-1) and the intensity-only
regression baseline.
"""

from genjax.data.digits_cycle import appearance
from genjax.data.digits_cycle.digits_cycle import DigitsCycle, DigitsCycleConfig

__all__ = ["DigitsCycle", "DigitsCycleConfig", "appearance"]
