"""Dedicated Endpoints: their status, the rules of sleeping, waking and waiting, their
errors, the waiter, and the endpoint methods the clients compose."""

__all__: list[str] = []
