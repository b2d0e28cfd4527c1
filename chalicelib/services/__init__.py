"""Use cases: thin functions that load, ask the domain, and store."""
