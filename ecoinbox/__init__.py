"""ecoinbox: a terminal inbox for community managers."""

__version__ = "0.1.0"
