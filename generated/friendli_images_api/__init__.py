# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
"""A client library for accessing Friendli Suite API Reference"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
