"""Benchmarks of friendli-images against raw httpx; run ``python bench/run.py``."""
