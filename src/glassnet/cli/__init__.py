"""The ``glassnet`` command."""

from .main import main

__all__ = ["main"]
