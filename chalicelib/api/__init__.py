"""HTTP entrypoints: translate requests to use cases and results or errors to JSON."""
