"""``glassnet``: argument parsing and dispatch to subcommands.

Each subcommand module exposes ``register(subparsers)`` that adds its parser and sets
``func(args) -> int``. User errors are raised as ``CLIError`` (or ``ValueError``/
``FileNotFoundError`` from the library) and printed as one line with a non-zero exit code,
never a traceback (set GLASSNET_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..data.download import DownloadError

# Subcommand modules, in the order they appear in --help.
SUBCOMMANDS: list[str] = ["tour", "train", "gradflow", "bench", "export"]


class CLIError(Exception):
    """A user error: printed as ``glassnet: error: <message>`` with exit code 2."""


# Errors that mean "the input was wrong" (files, values, downloads), not "glassnet is broken".
USER_ERRORS = (CLIError, ValueError, TypeError, OSError, DownloadError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description=(
            "Convolutional and recurrent neural networks from first principles on NumPy. "
            "Run `glassnet tour` for a walk through the whole library on bundled data."
        ),
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f".{name}", __package__).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as e:
        if os.environ.get("GLASSNET_DEBUG"):
            raise
        message = " ".join(str(e).split())  # one line, whatever the exception's layout
        print(f"glassnet: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
