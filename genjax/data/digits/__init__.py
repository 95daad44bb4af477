"""The embedded `digits` TFDS dataset; importing this registers the builder."""

from genjax.data.digits.digits import Digits, DigitsConfig

__all__ = ["Digits", "DigitsConfig"]
