"""The command line every bench client (floor, pipecat) shares, so compare.py drives them alike.

Kept apart from ``_harness`` so a client imports nothing but argparse from here.
"""

from __future__ import annotations

import argparse

__all__ = ["parse_client_args"]


def parse_client_args(argv: list[str] | None, description: str | None) -> argparse.Namespace:
    """Parse ``--url``, ``--mode run|idle``, ``--calls`` and ``--text``.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
        description: The client's help text.

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("run", "idle"), default="run")
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--text", default="Hello.")
    return parser.parse_args(argv)
