"""Admin of the EMR: one module per part of the record, registered on import."""

from emr.admin import clinical, encounters, notes, patients  # noqa: F401
