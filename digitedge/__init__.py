"""digitedge: handwritten digit recognition from workstation training to a Raspberry Pi."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("digitedge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
