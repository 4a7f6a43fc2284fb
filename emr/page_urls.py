"""Clinician pages of the EMR (patients, charts, notes)."""

app_name = "emr"

urlpatterns: list = []
