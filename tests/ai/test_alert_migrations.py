"""The inbox migrations keep the alerts raised before them: each gets a condition key of its own, first and last
seen at its creation, and an alert resolved by hand gets a resolution; the new constraints then hold."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.emr.test_access_support import make_patient

BEFORE = ("ai", "0001_alerts")
AFTER = ("ai", "0004_alert_inbox_constraints")


# Committed rows (transaction=True): PostgreSQL refuses to alter a table with pending foreign-key checks.
# Most of its 10-20 s is Django building the migration states: the price of testing a data migration.
@pytest.mark.django_db(transaction=True)
def test_existing_alerts_are_backfilled_and_never_merged_after_the_fact():
    patient = make_patient()
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps.get_model("ai", "Alert")
    common = {"kind": "news2", "patient_id": patient.pk, "severity": "high", "title": "NEWS2 5", "detail": {}}
    # two open alerts of one patient: one condition under the new keys, kept apart here
    first = old.objects.create(source_id=uuid.uuid4(), **common)
    second = old.objects.create(source_id=uuid.uuid4(), **common)
    closed = old.objects.create(source_id=uuid.uuid4(), status="resolved", **common)

    MigrationExecutor(connection).migrate([AFTER])

    from ai.models import Alert

    rows = {alert.pk: alert for alert in Alert.objects.all()}
    assert rows[first.pk].dedup_key == f"news2:{first.source_id}" != rows[second.pk].dedup_key
    assert rows[first.pk].first_seen_at == rows[first.pk].last_seen_at == rows[first.pk].created_at
    assert (rows[first.pk].occurrences, rows[first.pk].status) == (1, "open")
    assert rows[closed.pk].resolved_at is not None
    assert rows[closed.pk].resolution_note == "Resolved before resolutions were recorded."
