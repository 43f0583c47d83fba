"""StreamTrack domain code and adapters, used by the thin blueprints in `functions/`."""

__version__ = "0.1.0"
