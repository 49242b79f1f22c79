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
from typing import Any

import numpy as np

from .. import __version__
from ..data.download import DownloadError

# Subcommand modules, in the order they appear in --help.
SUBCOMMANDS: list[str] = ["tour", "train", "gradflow", "bench", "export", "verify"]


class CLIError(Exception):
    """A user error: printed as ``glassnet: error: <message>`` with exit code 2."""


# Errors that mean "the input was wrong" (files, values, downloads), not "glassnet is broken".
USER_ERRORS = (CLIError, ValueError, TypeError, OSError, DownloadError)


def show_default(value: Any) -> str:
    """A flag's default as it is typed on the command line (``16,32``, ``none``, ``'\\n'``)."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if value is None:
        return "none"
    if isinstance(value, str) and (not value or not value.isprintable() or " " in value):
        return repr(value)
    return str(value)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, taken from the parser (the one source).

    Flags without a value (``--resume``) and options whose default is None (``--out``, whose
    help says what happens instead) are left as written.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if isinstance(action, argparse.BooleanOptionalAction) and isinstance(default, bool):
            # Python < 3.14 appends "(default: True)" itself
            text = text.replace(" (default: %(default)s)", "")
            return f"{text} (default: {'on' if default else 'off'})"
        if (
            not action.option_strings
            or action.nargs == 0
            or default is None
            or default is argparse.SUPPRESS
            or isinstance(default, bool)
            or (isinstance(default, (list, tuple)) and not default)
            or "%(default)" in text
            or "(default" in text  # written by hand (what a None default means)
        ):
            return text
        shown = show_default(default).replace("%", "%%")
        return f"{text} (default: {shown})" if text else f"default: {shown}"


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with ``HelpFormatter``; sub-command parsers inherit it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
        # NaN/inf are reported by the commands themselves (the trainer's non-finite guard, the
        # checks on data and outputs), so NumPy's floating-point warnings would only be noise
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
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
    # `python -m glassnet.cli.main` runs this file as __main__, a second copy of the module: the
    # package's copy is the one whose CLIError the subcommands raise.
    from glassnet.cli.main import main as package_main

    sys.exit(package_main())
