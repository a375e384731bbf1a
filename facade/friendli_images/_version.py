"""The package version, read by pyproject.toml (setuptools dynamic version)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
"""The version of this package (PEP 440), the one its distribution is published as."""
