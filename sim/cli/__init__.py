"""The ``taresim`` command line. Parsing lives only in :func:`main`; every command calls plain
Python functions that can be used without the CLI (:mod:`sim.cli.commands`)."""
from __future__ import annotations

import os
import sys

from sim.cli.common import EXIT_USAGE, UserError
from sim.cli.parser import build_parser
from sim.config import ConfigError
from sim.memory import MemoryBudgetError
from sim.results import ResultsError

__all__ = ["main", "build_parser"]


def main(argv=None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UserError, ResultsError, MemoryBudgetError) as exc:
        print(f"taresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (e.g. `| head -1`): not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return 0
    except OSError as exc:  # unreadable input or unwritable output named by the user
        print(f"taresim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
