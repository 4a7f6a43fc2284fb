"""The database itself refuses to change or remove access log rows, whatever the SQL."""

import uuid

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from hospital.core.models import AccessLog
from hospital.core.services.access_log import access_log_record, access_log_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(doctor):
    return access_log_record(
        actor=doctor,
        action=AccessLog.Action.READ,
        object_type="emr.patient",
        patient_external_id=uuid.uuid4(),
        purpose="ward round",
    )


def _refused(sql, params=()):
    # The savepoint keeps the test's transaction usable after the database raises.
    with (
        pytest.raises(InternalError, match="append-only") as error,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return str(error.value)


def test_raw_update_is_refused_and_names_the_row(entry):
    message = _refused("UPDATE core_accesslog SET purpose = 'covering my tracks' WHERE id = %s", [entry.id])

    assert f"UPDATE of row {entry.id} refused" in message
    assert AccessLog.objects.get(pk=entry.pk).purpose == "ward round"


def test_raw_delete_is_refused(entry):
    message = _refused("DELETE FROM core_accesslog WHERE id = %s", [entry.id])

    assert f"DELETE of row {entry.id} refused" in message
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_truncate_is_refused(entry):
    message = _refused("TRUNCATE core_accesslog")

    assert "TRUNCATE refused" in message
    assert AccessLog.objects.count() == 1


def test_orm_update_save_and_delete_are_refused_too(entry):
    with pytest.raises(InternalError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(action=AccessLog.Action.WRITE)
    entry.purpose = "edited"
    with pytest.raises(InternalError, match="append-only"), transaction.atomic():
        entry.save()
    with pytest.raises(InternalError, match="append-only"), transaction.atomic():
        AccessLog.objects.all().delete()

    assert AccessLog.objects.get(pk=entry.pk).purpose == "ward round"
    assert access_log_verify().ok
