"""Test-only models (no migrations: pytest-django creates their tables directly)."""
