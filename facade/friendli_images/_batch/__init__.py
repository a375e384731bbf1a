"""Batches: the engine (many requests, a bounded number in flight), the adaptive
throttle and the pool of connections."""

__all__: list[str] = []
