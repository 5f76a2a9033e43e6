"""Use cases the UI calls; plain async code, no Qt."""
