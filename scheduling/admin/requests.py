"""Admin for requests."""
