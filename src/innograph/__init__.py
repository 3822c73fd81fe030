"""innograph: a linked-data knowledge graph of city innovation-capacity profiles."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("innograph")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
