"""Clinician pages of the EMR: one module per page group, thin views over selectors and services."""
