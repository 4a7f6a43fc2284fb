"""Admin for the notes part of the record."""
