"""Placeholder: not written yet."""

import argparse

from digitedge.errors import DigitEdgeError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No flags yet."""


def run(args: argparse.Namespace) -> int:
    """Not written yet."""
    raise DigitEdgeError("not implemented yet")
