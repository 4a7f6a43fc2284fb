"""Admin of beds and scheduling: one module per area, registered on import."""

from scheduling.admin import appointments, beds, census, requests, wards  # noqa: F401
