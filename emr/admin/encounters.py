"""Admin for the encounters part of the record."""
