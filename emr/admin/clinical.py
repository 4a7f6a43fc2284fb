"""Admin for the clinical part of the record."""
