"""Admin for beds."""
