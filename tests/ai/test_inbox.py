"""The inbox's actions and scope: who may acknowledge, assign and resolve, what each writes to the alert's
history and the access log, whom an alert may be assigned to, and the badge's count per role."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ai.models import Alert, AlertEvent
from ai.selectors import AlertFilters, alert_assignable_users, alert_list, alert_open_count
from ai.services import alert_acknowledge, alert_assign, alert_resolve, news2_evaluate
from hospital.core.models import AccessLog
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.emr.test_access_support import assign, make_user, make_ward
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward1(db):
    ward, doctor, nurse, patient, encounter = ward_with_inpatient("W1")
    news2_evaluate(set_id=record_vitals(patient, nurse, encounter=encounter, spo2=85, respiratory_rate=26))
    return SimpleNamespace(
        ward=ward, doctor=doctor, nurse=nurse, patient=patient, encounter=encounter, alert=Alert.objects.get()
    )


def _writes(alert):
    return AccessLog.objects.filter(object_type="ai.alert", action="write", object_id=str(alert.external_id))


def test_acknowledging_writes_a_history_row_and_a_log_entry(ward1):
    alert = alert_acknowledge(alert=ward1.alert, user=ward1.nurse)

    event = alert.events.get(action="acknowledged")
    assert (event.actor, event.from_status, event.to_status) == (ward1.nurse, "open", "acknowledged")
    entry = _writes(alert).get()
    assert (entry.actor, entry.patient_external_id, entry.detail["action"]) == (
        ward1.nurse,
        ward1.patient.external_id,
        "acknowledged",
    )


def test_assign_to_a_nurse_of_the_ward_is_audited(ward1):
    colleague = make_user("nurse.li", "nurse")
    assign(colleague, ward1.ward)

    alert = alert_assign(alert=ward1.alert, user=ward1.nurse, assignee=colleague, note="Bed 12, please review")

    assert (alert.assigned_to, alert.status) == (colleague, "open")
    assert alert.assigned_at is not None
    event = alert.events.get(action="assigned")
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        ward1.nurse,
        "open",
        "open",
        "Bed 12, please review",
    )
    assert event.detail == {"assignee": "nurse.li", "previous_assignee": None}
    assert _writes(alert).get().detail["assignee"] == "nurse.li"


def test_assigning_again_to_the_same_person_changes_nothing(ward1):
    alert_assign(alert=ward1.alert, user=ward1.nurse, assignee=ward1.nurse)

    alert_assign(alert=ward1.alert, user=ward1.nurse, assignee=ward1.nurse)

    assert ward1.alert.events.filter(action="assigned").count() == 1
    assert _writes(ward1.alert).count() == 1


def test_the_attending_doctor_may_be_assigned_an_alert_of_his_patient(ward1):
    alert = alert_assign(alert=ward1.alert, user=ward1.nurse, assignee=ward1.doctor)

    assert alert.assigned_to == ward1.doctor


@pytest.mark.parametrize(
    "who",
    ["nurse of another ward", "pharmacist assigned to the ward", "ward nurse whose assignment ended", "inactive"],
)
def test_assign_only_to_a_clinician_of_the_ward(ward1, who):
    if who == "nurse of another ward":
        assignee = make_user("nurse.other", "nurse")
        assign(assignee, make_ward("W9"))
    elif who == "pharmacist assigned to the ward":
        assignee = make_user("ph.wu", "pharmacist")
        assign(assignee, ward1.ward, role="other")
    elif who == "ward nurse whose assignment ended":
        assignee = make_user("nurse.gone", "nurse")
        assign(assignee, ward1.ward, starts_in_days=-30, ends_in_days=-1)
    else:
        assignee = UserFactory(username="nurse.off", roles=["nurse"], is_active=False)
        assign(assignee, ward1.ward)

    with pytest.raises(ValidationError) as error:
        alert_assign(alert=ward1.alert, user=ward1.nurse, assignee=assignee)

    assert "assignee" in error.value.message_dict
    ward1.alert.refresh_from_db()
    assert ward1.alert.assigned_to is None
    assert not AlertEvent.objects.filter(action="assigned").exists()
    assert not _writes(ward1.alert).exists()


def test_assignable_users_are_the_wards_clinicians_and_the_care_team(ward1):
    other_ward_nurse = make_user("nurse.w2", "nurse")
    assign(other_ward_nurse, make_ward("W2"))

    names = set(alert_assignable_users(alert=ward1.alert).values_list("username", flat=True))

    assert names == {ward1.nurse.username, ward1.doctor.username}


def test_a_user_without_the_alert_in_their_inbox_can_neither_assign_nor_resolve(ward1):
    outsider = make_user("nurse.w5", "nurse")
    assign(outsider, make_ward("W5"))

    with pytest.raises(PermissionDenied):
        alert_assign(alert=ward1.alert, user=outsider, assignee=ward1.nurse)
    with pytest.raises(PermissionDenied):
        alert_resolve(alert=ward1.alert, user=outsider, note="Not mine")
    with pytest.raises(PermissionDenied):
        alert_resolve(alert=ward1.alert, user=make_user("ph.li", "pharmacist"), note="Not mine")

    ward1.alert.refresh_from_db()
    assert (ward1.alert.status, ward1.alert.assigned_to) == ("open", None)
    assert not _writes(ward1.alert).exists()


def test_resolving_needs_a_note_and_records_who_when_why(ward1):
    alert_acknowledge(alert=ward1.alert, user=ward1.nurse)
    with pytest.raises(ValidationError) as error:
        alert_resolve(alert=ward1.alert, user=ward1.doctor, note="   ")
    assert "note" in error.value.message_dict

    alert = alert_resolve(alert=ward1.alert, user=ward1.doctor, note="Reviewed; oxygen started, NEWS2 now 2.")

    assert (alert.status, alert.resolved_by, alert.resolution_note) == (
        "resolved",
        ward1.doctor,
        "Reviewed; oxygen started, NEWS2 now 2.",
    )
    assert alert.acknowledged_by == ward1.nurse  # the acknowledgement stays on record
    event = alert.events.get(action="resolved")
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        ward1.doctor,
        "acknowledged",
        "resolved",
        "Reviewed; oxygen started, NEWS2 now 2.",
    )
    assert [entry.detail["action"] for entry in _writes(alert).order_by("id")] == ["acknowledged", "resolved"]


def test_a_resolved_alert_is_neither_resolved_again_nor_assigned(ward1):
    alert_resolve(alert=ward1.alert, user=ward1.nurse, note="Done")

    with pytest.raises(ValidationError) as again:
        alert_resolve(alert=ward1.alert, user=ward1.doctor, note="Done again")
    with pytest.raises(ValidationError) as assigned:
        alert_assign(alert=ward1.alert, user=ward1.nurse, assignee=ward1.doctor)

    assert "status" in again.value.message_dict and "status" in assigned.value.message_dict
    assert ward1.alert.events.filter(action="resolved").count() == 1


def test_only_conflicting_data_asks_which_reading_is_right(ward1):
    with pytest.raises(ValidationError) as error:
        alert_resolve(alert=ward1.alert, user=ward1.nurse, note="ok", accepted="2f1c7c2e-0000-4000-8000-000000000000")

    assert "accepted" in error.value.message_dict


def test_the_badge_counts_open_alerts_in_scope_per_role(ward1):
    other_ward_nurse = make_user("nurse.w2", "nurse")
    assign(other_ward_nurse, make_ward("W2"))

    assert alert_open_count(user=ward1.nurse) == 1
    assert alert_open_count(user=ward1.doctor) == 1
    assert alert_open_count(user=other_ward_nurse) == 0
    assert alert_open_count(user=make_user("bm.zhou", "bed_manager")) == 0  # no census alerts yet
    assert alert_open_count(user=make_user("ph.li", "pharmacist")) == 0

    alert_acknowledge(alert=ward1.alert, user=ward1.nurse)

    assert alert_open_count(user=ward1.nurse) == 0


def test_the_badge_is_one_query(ward1, django_assert_num_queries):
    ward1.nurse.role_names  # noqa: B018 - the roles are cached on the user after the first page

    with django_assert_num_queries(1):
        alert_open_count(user=ward1.nurse)


def test_filters_by_status_kind_ward_and_assignee(ward1):
    nurse = ward1.nurse
    alert_assign(alert=ward1.alert, user=nurse, assignee=nurse)

    def shown(**filters):
        return [alert.pk for alert in alert_list(fetched_by=nurse, filters=AlertFilters(**filters))]

    assert shown() == [ward1.alert.pk]
    assert shown(kind="critical_lab") == []
    assert shown(ward=ward1.ward, mine=True) == [ward1.alert.pk]
    assert shown(status="resolved") == []
    alert_resolve(alert=ward1.alert, user=nurse, note="Done")
    assert shown() == []
    assert shown(status="resolved") == shown(status="all") == [ward1.alert.pk]
