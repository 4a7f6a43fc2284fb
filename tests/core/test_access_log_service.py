"""access_log_record and access_log_verify: what an entry holds, the hash chain, and tampering found."""

import io
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction

from hospital.core.models import AccessLog
from hospital.core.request_context import RequestContext, reset_request_context, set_request_context
from hospital.core.services.access_log import (
    GENESIS_HASH,
    access_log_hash,
    access_log_record,
    access_log_verify,
)
from hospital.core.tasks import audit_verify_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _record(actor=None, **overrides):
    arguments = {
        "actor": actor,
        "action": AccessLog.Action.READ,
        "object_type": "emr.patient",
        "object_id": str(uuid.uuid4()),
        "patient_external_id": uuid.uuid4(),
    }
    arguments.update(overrides)
    return access_log_record(**arguments)


@pytest.fixture
def request_context():
    context = RequestContext(ip_address="10.1.2.3", user_agent="Ward PC browser", request_id="req-42", channel="web")
    token = set_request_context(context)
    yield context
    reset_request_context(token)


def test_record_takes_address_agent_request_id_and_channel_from_the_current_request(request_context, doctor):
    patient = uuid.uuid4()

    entry = access_log_record(
        actor=doctor,
        action=AccessLog.Action.READ,
        object_type="emr.patient",
        object_id=str(patient),
        patient_external_id=str(patient),
        purpose="ward round",
        detail={"fields": ["allergies", "medications"]},
    )

    entry = AccessLog.objects.get(pk=entry.pk)
    assert entry.actor_id == doctor.pk
    assert entry.actor_username == "doctor1"
    assert entry.actor_kind == AccessLog.ActorKind.USER
    assert entry.patient_external_id == patient
    assert (entry.ip_address, entry.user_agent, entry.request_id, entry.channel) == (
        "10.1.2.3",
        "Ward PC browser",
        "req-42",
        "web",
    )
    assert entry.detail == {"fields": ["allergies", "medications"]}
    assert entry.occurred_at is not None
    assert entry.prev_hash == GENESIS_HASH


def test_an_explicit_context_wins_over_the_request_and_a_task_without_user_is_a_task(request_context):
    entry = _record(actor=None, context=RequestContext(channel="task", request_id="job-7"))

    assert (entry.actor_id, entry.actor_username, entry.actor_kind) == (None, "", AccessLog.ActorKind.TASK)
    assert (entry.channel, entry.request_id, entry.ip_address) == ("task", "job-7", None)


def test_anonymous_user_is_recorded_as_the_system():
    entry = _record(actor=AnonymousUser(), action=AccessLog.Action.LOGIN_FAILED, patient_external_id=None)

    assert (entry.actor_id, entry.actor_kind, entry.channel) == (None, AccessLog.ActorKind.SYSTEM, "system")


def test_integration_client_is_recorded_as_an_integration():
    his = UserFactory(username="his", is_integration_client=True)

    assert _record(actor=his).actor_kind == AccessLog.ActorKind.INTEGRATION


@pytest.mark.parametrize(
    ("given", "stored"),
    [("::ffff:192.0.2.7", "192.0.2.7"), ("2001:DB8:0:0::1", "2001:db8::1"), ("not an address", None)],
)
def test_addresses_are_stored_in_one_spelling_so_the_hash_still_matches(given, stored):
    _record(context=RequestContext(ip_address=given))

    assert AccessLog.objects.get().ip_address == stored
    assert access_log_verify().ok


def test_detail_numbers_that_jsonb_rewrites_still_verify():
    _record(detail={"big": 1e20, "small": 0.1, "nested": {"b": 1, "a": [1.0, "x"]}})

    assert access_log_verify().ok


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"action": "peek"}, "action"),
        ({"action": AccessLog.Action.BREAK_GLASS, "purpose": "  "}, "purpose"),
        ({"patient_external_id": "not-a-uuid"}, "patient_external_id"),
        ({"object_type": ""}, "object_type"),
        ({"detail": ["not", "an", "object"]}, "detail"),
    ],
)
def test_invalid_entries_are_refused_and_nothing_is_written(overrides, field):
    with pytest.raises(ValidationError) as error:
        _record(**overrides)

    assert field in error.value.message_dict
    assert not AccessLog.objects.exists()


def test_entries_chain_each_to_the_one_before(doctor):
    first, second, third = (_record(actor=doctor) for _ in range(3))

    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.row_hash
    assert third.prev_hash == second.row_hash
    assert len({first.row_hash, second.row_hash, third.row_hash}) == 3
    assert access_log_verify() == access_log_verify(batch_size=2)
    assert access_log_verify().ok
    assert access_log_verify().rows_checked == 3


def test_row_hash_covers_every_logged_field(doctor):
    entry = _record(actor=doctor)
    values = AccessLog.objects.filter(pk=entry.pk).values().get()

    assert access_log_hash(values) == entry.row_hash
    assert access_log_hash({**values, "purpose": "changed"}) != entry.row_hash
    assert access_log_hash({**values, "actor_id": doctor.pk + 1}) != entry.row_hash


def test_an_entry_written_in_a_rolled_back_transaction_leaves_no_trace_and_no_break(doctor):
    kept = _record(actor=doctor)
    with pytest.raises(RuntimeError), transaction.atomic():
        _record(actor=doctor, action=AccessLog.Action.WRITE)
        raise RuntimeError("the write failed")
    after = _record(actor=doctor)

    assert list(AccessLog.objects.values_list("id", flat=True)) == [kept.id, after.id]
    assert after.id > kept.id + 1  # the rolled-back entry used an id: gaps are not breaks
    assert after.prev_hash == kept.row_hash
    assert access_log_verify().ok


def _tamper(sql, params):
    """What a superuser can do: switch the triggers off for one statement."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_audit_verify_reports_an_intact_chain():
    for _ in range(3):
        _record()
    out = io.StringIO()

    call_command("audit_verify", stdout=out)

    assert out.getvalue().strip() == "OK: 3 rows, chain intact"


def test_audit_verify_names_the_row_a_superuser_altered_with_triggers_disabled(doctor):
    # given a chain of five entries
    entries = [_record(actor=doctor) for _ in range(5)]
    altered = entries[2]
    # when a superuser rewrites the purpose of the third with the triggers disabled
    _tamper("UPDATE core_accesslog SET purpose = 'nothing to see' WHERE id = %s", [altered.id])
    assert AccessLog.objects.get(pk=altered.pk).purpose == "nothing to see"
    # then audit_verify fails and names that row
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify", stderr=err)

    assert exit_info.value.code == 1
    assert f"row {altered.id}:" in err.getvalue()
    assert "altered" in err.getvalue()
    result = access_log_verify()
    assert (result.ok, result.first_broken_id, result.rows_checked) == (False, altered.id, 3)


def test_verify_finds_an_altered_row_whose_hash_was_recomputed_at_the_next_link(doctor):
    entries = [_record(actor=doctor) for _ in range(4)]
    row = AccessLog.objects.filter(pk=entries[1].pk).values().get()
    forged = {**row, "actor_id": None, "actor_username": ""}
    _tamper(
        "UPDATE core_accesslog SET actor_id = NULL, actor_username = '', row_hash = %s WHERE id = %s",
        [access_log_hash(forged), row["id"]],
    )

    result = access_log_verify()

    assert (result.ok, result.first_broken_id) == (False, entries[2].id)
    assert "prev_hash" in result.reason


def test_verify_finds_a_row_deleted_with_all_triggers_disabled(doctor):
    entries = [_record(actor=doctor) for _ in range(4)]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_accesslog DISABLE TRIGGER ALL")
        cursor.execute("DELETE FROM core_accesslog WHERE id = %s", [entries[1].id])
        cursor.execute("ALTER TABLE core_accesslog ENABLE TRIGGER ALL")

    result = access_log_verify()

    assert (result.ok, result.first_broken_id) == (False, entries[2].id)


def test_verify_from_a_start_id_trusts_the_row_before_it(doctor):
    entries = [_record(actor=doctor) for _ in range(4)]
    _tamper("UPDATE core_accesslog SET purpose = 'x' WHERE id = %s", [entries[0].id])

    assert access_log_verify(start_id=entries[2].id) == access_log_verify(start_id=entries[2].id, batch_size=1)
    assert access_log_verify(start_id=entries[2].id).ok
    assert access_log_verify(start_id=entries[2].id).rows_checked == 2
    assert access_log_verify().first_broken_id == entries[0].id


def test_nightly_task_logs_the_first_broken_link(doctor, caplog):
    entry = _record(actor=doctor)
    _tamper("UPDATE core_accesslog SET object_id = 'other' WHERE id = %s", [entry.id])

    audit_verify_task.apply()

    assert f"access log chain broken at row {entry.id}" in caplog.text
