# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
"""Contains endpoint functions for accessing the API"""
