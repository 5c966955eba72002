"""unstuck: explains why a VTEX order is stuck and offers safe invoice fixes."""

__version__ = "0.1.0"
