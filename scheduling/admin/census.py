"""Admin for census."""
