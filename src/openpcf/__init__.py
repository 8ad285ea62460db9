"""OpenPCF: product carbon footprints on a transparent matrix LCA engine."""

__version__ = "0.1.0"
