"""Bed requests: joining the queue, cancelling, and assigning a bed (which admits the patient)."""

import pytest
from django.core.exceptions import ValidationError

from emr.models import Encounter
from hospital.core.models import AccessLog
from scheduling.models import AdtEvent, BedRequest, BedStay
from scheduling.services.adt import BedConflict
from scheduling.services.requests import (
    RequestNotWaiting,
    bed_request_assign,
    bed_request_cancel,
    bed_request_create,
    bed_request_update,
)
from tests.scheduling.test_board_support import (
    bed,
    bed_manager,
    dirty,
    doctor,
    make_patient,
    make_ward,
    occupy,
    waiting_request,
)

pytestmark = pytest.mark.django_db


def _counts():
    return (BedRequest.objects.count(), BedStay.objects.count(), Encounter.objects.count(), AdtEvent.objects.count())


def _create(patient, user, **overrides):
    values = {
        "patient": patient,
        "source": "emergency",
        "priority": 2,
        "specialty": "general_medicine",
        "needs_isolation": False,
        "nursing_level": "standard",
        "requested_by": user,
    }
    values.update(overrides)
    return bed_request_create(**values)


def test_create_queues_the_patient_once_and_logs_it():
    user = doctor()
    patient = make_patient()

    request = _create(patient, user, note="  chest pain  ")

    assert request.status == "waiting" and request.note == "chest pain" and request.needed_from is not None
    entry = AccessLog.objects.get(object_type="scheduling.bedrequest")
    assert entry.action == "create" and entry.patient_external_id == patient.external_id
    with pytest.raises(ValidationError) as exc:
        _create(patient, user)
    assert "patient" in exc.value.message_dict
    assert BedRequest.objects.count() == 1


@pytest.mark.parametrize(
    "field, value",
    [("priority", 0), ("priority", 6), ("specialty", "astrology"), ("source", "x"), ("nursing_level", "max")],
)
def test_create_refuses_bad_input_and_writes_nothing(field, value):
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _create(make_patient(), doctor(), **{field: value})
    assert field in exc.value.message_dict
    assert _counts()[0] == before[0]


def test_create_refuses_another_patients_encounter():
    user = doctor()
    other = Encounter.objects.create(
        patient=make_patient("Zhao", "Lei", "male"), encounter_class="emergency", started_at="2025-01-01T10:00Z"
    )
    with pytest.raises(ValidationError) as exc:
        _create(make_patient(), user, encounter=other)
    assert "encounter" in exc.value.message_dict
    assert not BedRequest.objects.exists()


def test_cancel_and_update_only_while_waiting():
    user = doctor()
    request = _create(make_patient(), user)

    updated = bed_request_update(request=request, updated_by=user, priority=1, note="worse")
    cancelled = bed_request_cancel(request=request, cancelled_by=user, reason="went home")

    assert updated.priority == 1
    assert cancelled.status == "cancelled" and cancelled.note == "worse · went home"
    with pytest.raises(RequestNotWaiting):
        bed_request_cancel(request=request, cancelled_by=user)
    with pytest.raises(RequestNotWaiting):
        bed_request_update(request=request, updated_by=user, priority=2)


def test_assign_starts_an_inpatient_encounter_admits_and_marks_the_request():
    ward = make_ward("GM1")
    requester = doctor()
    manager = bed_manager()
    ed_visit = Encounter.objects.create(
        patient=make_patient(), encounter_class="emergency", started_at="2025-01-01T10:00Z", attending=requester
    )
    request = waiting_request(ed_visit.patient, requester, encounter=ed_visit)

    stay = bed_request_assign(request=request, bed=bed(ward, "02"), assigned_by=manager)

    request.refresh_from_db()
    assert request.status == "assigned" and request.assigned_stay == stay
    encounter = stay.encounter
    assert encounter.encounter_class == "inpatient" and encounter.status == "in_progress"
    assert encounter.ward == ward and encounter.attending == requester and encounter != ed_visit
    assert stay.bed.code == "02" and stay.period.upper is None
    assert AdtEvent.objects.get().event_type == "admit"


def test_assign_uses_the_inpatient_encounter_the_request_has():
    ward = make_ward("GM1")
    patient = make_patient()
    inpatient = Encounter.objects.create(
        patient=patient, encounter_class="inpatient", started_at="2025-01-01T10:00Z", ward=ward
    )
    request = waiting_request(patient, doctor(), encounter=inpatient)

    stay = bed_request_assign(request=request, bed=bed(ward), assigned_by=bed_manager())

    assert stay.encounter == inpatient and Encounter.objects.count() == 1


def test_assign_to_an_occupied_bed_is_a_conflict_and_writes_nothing():
    ward = make_ward("GM1")
    occupy(bed(ward, "01"))
    request = waiting_request(make_patient(), doctor())
    before = _counts()

    with pytest.raises(BedConflict):
        bed_request_assign(request=request, bed=bed(ward, "01"), assigned_by=bed_manager())

    assert _counts() == before
    request.refresh_from_db()
    assert request.status == "waiting"


def test_assign_to_a_cleaning_bed_is_refused_and_writes_nothing():
    ward = make_ward("GM1")
    dirty(bed(ward, "01"))
    request = waiting_request(make_patient(), doctor())
    before = _counts()

    with pytest.raises(ValidationError) as exc:
        bed_request_assign(request=request, bed=bed(ward, "01"), assigned_by=bed_manager())

    assert not isinstance(exc.value, BedConflict)
    assert _counts() == before


def test_assign_refuses_a_bed_that_breaks_a_hard_rule():
    female_ward = make_ward("F1", sex_policy="female")
    request = waiting_request(make_patient("Li", "Ming", "male"), doctor())
    before = _counts()

    with pytest.raises(ValidationError) as exc:
        bed_request_assign(request=request, bed=bed(female_ward), assigned_by=bed_manager())

    assert "female only" in " ".join(exc.value.message_dict["bed"])
    assert _counts() == before


def test_assigned_request_cannot_be_assigned_again():
    ward = make_ward("GM1")
    request = waiting_request(make_patient(), doctor())
    bed_request_assign(request=request, bed=bed(ward, "01"), assigned_by=bed_manager())

    with pytest.raises(RequestNotWaiting):
        bed_request_assign(request=request, bed=bed(ward, "02"), assigned_by=bed_manager())
    assert BedStay.objects.count() == 1


def test_assign_without_a_clinician_to_attend_is_refused():
    ward = make_ward("GM1")
    manager = bed_manager()
    request = waiting_request(make_patient(), manager)

    with pytest.raises(ValidationError) as exc:
        bed_request_assign(request=request, bed=bed(ward), assigned_by=manager)

    assert "encounter" in exc.value.message_dict
    assert not Encounter.objects.exists() and not BedStay.objects.exists()
