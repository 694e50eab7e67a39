"""Typed exceptions of landcarbon.

Every message says *what* is wrong, *where* (file, line, column, variable, manifest entry)
and *how to fix it*. Use :func:`located` to build such messages consistently.
"""
from __future__ import annotations

__all__ = [
    "LandcarbonError",
    "DataError",
    "ManifestError",
    "ChecksumError",
    "UnitsError",
    "PipelineError",
    "ConfigError",
    "located",
]


class LandcarbonError(Exception):
    """Base class of every error raised on purpose by landcarbon."""


class DataError(LandcarbonError, ValueError):
    """An input file or array is malformed, incomplete or uses the wrong units."""


class ManifestError(LandcarbonError, ValueError):
    """``data_manifest.yaml`` (or a dataset id) is malformed or unknown."""


class ChecksumError(DataError):
    """A file's sha256 does not match the manifest: corrupt, truncated or tampered."""


class UnitsError(DataError):
    """A variable's units are missing, unknown or cannot be converted."""


class PipelineError(LandcarbonError, RuntimeError):
    """A notebook of the pipeline failed or the pipeline configuration is wrong."""


class ConfigError(LandcarbonError, ValueError):
    """A parameter or configuration value is invalid."""


def located(what: str, *, where: str | None = None, fix: str | None = None) -> str:
    """Compose a message ``"<what> [where: ...] Fix: ..."``.

    Parameters
    ----------
    what : str
        What is wrong.
    where : str, optional
        File, line, column, variable or entry id.
    fix : str, optional
        What the user should do.
    """
    msg = what.rstrip(".") + "."
    if where:
        msg += f" [where: {where}]"
    if fix:
        msg += f" Fix: {fix.rstrip('.')}."
    return msg
