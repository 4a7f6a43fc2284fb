"""Clinic slots, booking, cancelling, rescheduling and the queue's transitions, through the services."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from emr.models import Encounter
from emr.selectors.access import user_can_read_clinical
from hospital.core.models import AccessLog
from scheduling.models import Appointment, AppointmentSlot
from scheduling.services.appointments import (
    SlotTaken,
    appointment_book,
    appointment_call,
    appointment_cancel,
    appointment_check_in,
    appointment_mark_seen,
    appointment_no_show,
    appointment_reschedule,
    slot_block,
    slots_generate,
)
from tests.scheduling.test_appointments_support import book, make_patient, make_slot, make_user, start_outpatient

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician():
    return make_user("dr.lin", "doctor")


@pytest.fixture
def nurse():
    return make_user("nurse.wu", "nurse")


def _tomorrow():
    return timezone.localdate() + timedelta(days=1)


def _generate(clinician, **overrides):
    kwargs = {
        "clinician": clinician,
        "day": _tomorrow(),
        "start_time": time(9, 0),
        "end_time": time(10, 0),
        "slot_minutes": 15,
        "created_by": clinician,
    }
    kwargs.update(overrides)
    return slots_generate(**kwargs)


# --- slots ------------------------------------------------------------------------------------------------------


def test_a_session_is_split_into_consecutive_slots(clinician):
    slots = _generate(clinician, location="Room 3")

    assert len(slots) == 4
    stored = list(AppointmentSlot.objects.order_by("period__startswith"))
    starts = [timezone.localtime(slot.period.lower).time() for slot in stored]
    assert starts == [time(9, 0), time(9, 15), time(9, 30), time(9, 45)]
    assert all(a.period.upper == b.period.lower for a, b in zip(stored, stored[1:], strict=False))
    assert {slot.location for slot in stored} == {"Room 3"}


def test_an_overlapping_session_is_refused_and_nothing_is_written(clinician):
    _generate(clinician)

    with pytest.raises(ValidationError) as exc:
        _generate(clinician, start_time=time(9, 45), end_time=time(11, 0))

    assert "start_time" in exc.value.message_dict
    assert "already has clinic slots" in exc.value.message_dict["start_time"][0]
    assert AppointmentSlot.objects.count() == 4
    # another clinician's session at the same time is fine
    assert len(_generate(make_user("dr.gao", "doctor"))) == 4


def test_the_database_refuses_overlapping_slots_of_one_clinician(clinician):
    slot = make_slot(clinician)

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentSlot.objects.create(
            clinician=clinician,
            period=DateTimeTZRange(slot.period.lower + timedelta(minutes=5), slot.period.upper + timedelta(minutes=5)),
        )
    assert AppointmentSlot.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"day": timezone.localdate() - timedelta(days=1)}, "day"),
        ({"end_time": time(9, 0)}, "end_time"),
        ({"slot_minutes": 2}, "slot_minutes"),
        ({"slot_minutes": 25}, "slot_minutes"),  # 60 minutes do not divide into 25-minute slots
    ],
)
def test_bad_sessions_are_refused_with_a_field_error(clinician, overrides, field):
    with pytest.raises(ValidationError) as exc:
        _generate(clinician, **overrides)

    assert field in exc.value.message_dict
    assert not AppointmentSlot.objects.exists()


def test_only_clinicians_hold_clinics():
    bed_manager = make_user("bm.zhao", "bed_manager")

    with pytest.raises(ValidationError) as exc:
        _generate(bed_manager)

    assert "clinician" in exc.value.message_dict


# --- booking ----------------------------------------------------------------------------------------------------


def test_booking_a_free_slot_writes_the_appointment_and_a_log_entry(clinician, nurse):
    slot = make_slot(clinician)
    patient = make_patient()

    appointment = appointment_book(slot=slot, patient=patient, booked_by=nurse, reason=" follow-up ")

    assert (appointment.status, appointment.reason, appointment.booked_by) == ("booked", "follow-up", nurse)
    entry = AccessLog.objects.get(object_type="scheduling.appointment")
    assert (entry.action, entry.actor_id, entry.patient_external_id) == ("create", nurse.pk, patient.external_id)


def test_a_taken_slot_raises_slot_taken_and_writes_nothing(clinician, nurse):
    slot = make_slot(clinician)
    book(slot, make_patient())

    with pytest.raises(SlotTaken) as exc:
        appointment_book(slot=slot, patient=make_patient("李", "雷"), booked_by=nurse)

    assert exc.value.message_dict == {"slot": ["This slot is already booked."]}
    assert Appointment.objects.count() == 1


def test_a_cancelled_or_no_show_booking_frees_the_slot(clinician, nurse):
    slot = make_slot(clinician)
    book(slot, make_patient(), status="cancelled", cancelled_at=timezone.now())
    book(slot, make_patient("张", "伟"), status="no_show")

    appointment_book(slot=slot, patient=make_patient("李", "雷"), booked_by=nurse)

    assert slot.appointments.filter(status__in=Appointment.LIVE_STATUSES).count() == 1


def test_the_database_refuses_a_second_live_booking(clinician):
    slot = make_slot(clinician)
    book(slot, make_patient())

    with pytest.raises(IntegrityError), transaction.atomic():
        book(slot, make_patient("李", "雷"))


def test_a_slot_in_the_past_cannot_be_booked(clinician, nurse):
    slot = make_slot(clinician, starts_in_minutes=-30, minutes=15)

    with pytest.raises(ValidationError) as exc:
        appointment_book(slot=slot, patient=make_patient(), booked_by=nurse)

    assert exc.value.message_dict == {"slot": ["This slot is in the past."]}
    assert not Appointment.objects.exists()
    assert not AccessLog.objects.filter(object_type="scheduling.appointment").exists()


def test_a_running_slot_still_takes_a_walk_in(clinician, nurse):
    slot = make_slot(clinician, starts_in_minutes=-5, minutes=15)

    assert appointment_book(slot=slot, patient=make_patient(), booked_by=nurse).status == "booked"


def test_a_blocked_slot_cannot_be_booked_and_a_booked_one_cannot_be_blocked(clinician, nurse):
    blocked = make_slot(clinician, is_blocked=True)
    booked = make_slot(clinician, starts_in_minutes=120)
    book(booked, make_patient())

    with pytest.raises(ValidationError) as exc:
        appointment_book(slot=blocked, patient=make_patient("李", "雷"), booked_by=nurse)
    assert "blocked" in exc.value.message_dict["slot"][0]
    with pytest.raises(ValidationError):
        slot_block(slot=booked, blocked_by=clinician)

    booked.refresh_from_db()
    assert booked.is_blocked is False
    assert Appointment.objects.count() == 1


def test_a_merged_away_patient_cannot_be_booked(clinician, nurse):
    survivor = make_patient()
    merged = make_patient("王", "芳芳")
    merged.is_active = False
    merged.merged_into = survivor
    merged.save()

    with pytest.raises(ValidationError) as exc:
        appointment_book(slot=make_slot(clinician), patient=merged, booked_by=nurse)

    assert "patient" in exc.value.message_dict
    assert not Appointment.objects.exists()


# --- cancel and reschedule --------------------------------------------------------------------------------------


def test_cancel_frees_the_slot_and_only_booked_or_checked_in_can_be_cancelled(clinician, nurse):
    slot = make_slot(clinician)
    appointment = book(slot, make_patient())

    cancelled = appointment_cancel(appointment=appointment, cancelled_by=nurse, reason="patient phoned")

    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    entry = AccessLog.objects.filter(object_type="scheduling.appointment").latest("id")
    assert entry.detail == {"status": "cancelled", "reason": "patient phoned"}
    with pytest.raises(ValidationError) as exc:
        appointment_cancel(appointment=appointment, cancelled_by=nurse)
    assert exc.value.message_dict["status"] == [
        "Only a booked or checked-in appointment can be cancelled; this one is Cancelled."
    ]
    assert appointment_book(slot=slot, patient=make_patient("李", "雷"), booked_by=nurse).status == "booked"


def test_reschedule_cancels_the_old_booking_and_links_the_new_one(clinician, nurse):
    old_slot, new_slot = make_slot(clinician), make_slot(clinician, starts_in_minutes=120)
    appointment = book(old_slot, make_patient(), reason="knee pain")

    new = appointment_reschedule(appointment=appointment, new_slot=new_slot, rescheduled_by=nurse)

    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert (new.slot, new.rescheduled_from, new.reason, new.status) == (new_slot, appointment, "knee pain", "booked")
    assert appointment.rescheduled_to == new


def test_reschedule_to_a_taken_slot_changes_nothing(clinician, nurse):
    old_slot, taken = make_slot(clinician), make_slot(clinician, starts_in_minutes=120)
    appointment = book(old_slot, make_patient())
    other = book(taken, make_patient("李", "雷"))
    before = list(Appointment.objects.order_by("id").values_list("id", "slot_id", "status", "cancelled_at"))

    with pytest.raises(SlotTaken):
        appointment_reschedule(appointment=appointment, new_slot=taken, rescheduled_by=nurse)

    assert list(Appointment.objects.order_by("id").values_list("id", "slot_id", "status", "cancelled_at")) == before
    assert other.status == "booked"
    assert not AccessLog.objects.filter(object_type="scheduling.appointment").exists()


def test_reschedule_to_a_past_slot_or_the_same_slot_changes_nothing(clinician, nurse):
    slot = make_slot(clinician)
    appointment = book(slot, make_patient())
    past = make_slot(clinician, starts_in_minutes=-60)

    for new_slot in (past, slot):
        with pytest.raises(ValidationError) as exc:
            appointment_reschedule(appointment=appointment, new_slot=new_slot, rescheduled_by=nurse)
        assert "slot" in exc.value.message_dict

    assert list(Appointment.objects.values_list("status", flat=True)) == ["booked"]


# --- the queue --------------------------------------------------------------------------------------------------


def _today_slot(clinician, **kwargs):
    # Starts now, so it is on today's list whenever the test runs (bar the very stroke of midnight).
    return make_slot(clinician, starts_in_minutes=0, minutes=20, **kwargs)


def test_check_in_call_and_seen_walk_the_queue_and_start_an_encounter(clinician, nurse):
    patient = make_patient()
    appointment = book(_today_slot(clinician), patient, reason="cough")
    assert not user_can_read_clinical(clinician, patient)

    appointment = appointment_check_in(appointment=appointment, checked_in_by=nurse)
    assert appointment.status == "checked_in" and appointment.checked_in_at is not None
    appointment = appointment_call(appointment=appointment, called_by=clinician)
    assert appointment.status == "called" and appointment.called_at is not None
    appointment = appointment_mark_seen(appointment=appointment, seen_by=clinician)

    assert appointment.status == "seen" and appointment.seen_at is not None
    encounter = appointment.encounter
    assert (encounter.encounter_class, encounter.status, encounter.attending, encounter.reason) == (
        "outpatient",
        "in_progress",
        clinician,
        "cough",
    )
    assert user_can_read_clinical(clinician, patient)
    statuses = list(
        AccessLog.objects.filter(object_type="scheduling.appointment").order_by("id").values_list("detail", flat=True)
    )
    assert [d["status"] for d in statuses] == ["checked_in", "called", "seen"]


def test_seen_links_the_patients_open_outpatient_encounter_with_the_clinician(clinician, nurse):
    patient = make_patient()
    open_encounter = start_outpatient(patient, clinician)
    appointment = book(_today_slot(clinician), patient, status="checked_in", checked_in_at=timezone.now())

    appointment = appointment_mark_seen(appointment=appointment, seen_by=clinician)

    assert appointment.encounter == open_encounter
    assert Encounter.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "transition", "message"),
    [
        ("booked", appointment_call, "Only a checked-in patient can be called; this appointment is Booked."),
        ("booked", appointment_mark_seen, "Only a checked-in or called patient can be marked seen"),
        ("checked_in", appointment_check_in, "Only a booked appointment can be checked in; this one is Checked in."),
        ("seen", appointment_call, "Only a checked-in patient can be called; this appointment is Seen."),
        ("seen", appointment_no_show, "Only a booked appointment can be marked as a no-show; this one is Seen."),
        ("no_show", appointment_check_in, "Only a booked appointment can be checked in; this one is Did not attend."),
    ],
)
def test_invalid_transitions_are_refused_with_a_clear_message(clinician, status, transition, message):
    appointment = book(_today_slot(clinician), make_patient(), status=status)
    actor_kwarg = {
        appointment_call: "called_by",
        appointment_mark_seen: "seen_by",
        appointment_check_in: "checked_in_by",
        appointment_no_show: "marked_by",
    }[transition]

    with pytest.raises(ValidationError) as exc:
        transition(appointment=appointment, **{actor_kwarg: clinician})

    assert exc.value.message_dict["status"][0].startswith(message)
    appointment.refresh_from_db()
    assert appointment.status == status
    assert not Encounter.objects.exists()


def test_check_in_only_on_the_day_of_the_appointment(clinician, nurse):
    appointment = book(make_slot(clinician, starts_in_minutes=2 * 24 * 60), make_patient())

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(appointment=appointment, checked_in_by=nurse)

    assert "on the day of their appointment" in exc.value.message_dict["status"][0]


def test_no_show_only_once_the_slot_has_started(clinician, nurse):
    later = book(make_slot(clinician, starts_in_minutes=60), make_patient())
    started = book(make_slot(clinician, starts_in_minutes=-10), make_patient("李", "雷"))

    with pytest.raises(ValidationError):
        appointment_no_show(appointment=later, marked_by=nurse)
    assert appointment_no_show(appointment=started, marked_by=nurse).status == "no_show"
