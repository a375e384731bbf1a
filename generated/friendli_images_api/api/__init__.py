# Generated from openapi.yaml by scripts/regenerate.py; do not edit by hand (see README.md).
"""Contains methods for accessing the API"""
