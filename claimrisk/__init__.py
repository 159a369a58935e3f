"""claimrisk: denial-risk prediction for physician-administered drug claims."""

from importlib.metadata import PackageNotFoundError, version

try:  # one source of truth, pyproject.toml (serving reads it the same way, without importing this)
    __version__ = version("claimrisk")
except PackageNotFoundError:  # a source tree run without ``pip install -e .``
    __version__ = "0+unknown"
