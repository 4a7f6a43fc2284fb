"""Admin for appointments."""
