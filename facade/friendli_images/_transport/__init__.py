"""The wire: one HTTP exchange per attempt, downloads of ``url`` results, bounded decoding,
the retry policy and the URL and header rules. Imports only the ground floor."""

__all__: list[str] = []
