"""The appointments API: slots, booking (201 / 409 slot_taken / 400), reschedule, the queue, permissions."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from emr.models import Encounter
from hospital.core.models import AccessLog
from scheduling.models import Appointment, AppointmentSlot
from tests.scheduling.test_appointments_support import book, make_patient, make_slot, make_user, patient_of

pytestmark = pytest.mark.django_db

BOOK_URL = "/api/v1/scheduling/appointments/"


@pytest.fixture
def doctor():
    return make_user("dr.lin", "doctor")


@pytest.fixture
def api(doctor):
    client = APIClient()
    client.force_authenticate(doctor)
    return client


def _url(appointment, action):
    return f"/api/v1/scheduling/appointments/{appointment.external_id}/{action}/"


def test_generate_slots_and_list_the_free_ones(api, doctor):
    day = timezone.localdate() + timedelta(days=1)

    response = api.post(
        "/api/v1/scheduling/slots/",
        {"day": day.isoformat(), "start_time": "14:00", "end_time": "15:00", "slot_minutes": 20, "location": "R2"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert [timezone.localtime(AppointmentSlot.objects.get(external_id=s["external_id"]).period.lower).time()
            for s in response.json()] == [time(14, 0), time(14, 20), time(14, 40)]  # fmt: skip
    first = AppointmentSlot.objects.order_by("period__startswith").first()
    book(first, make_patient())
    free = api.get("/api/v1/scheduling/slots/free/", {"clinician": str(doctor.external_id), "day": day.isoformat()})
    assert free.status_code == 200
    assert len(free.json()) == 2
    assert first.external_id not in {s["external_id"] for s in free.json()}


def test_overlapping_and_past_sessions_are_400_and_write_nothing(api, doctor):
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    payload = {"day": day, "start_time": "09:00", "end_time": "10:00", "slot_minutes": 15}
    assert api.post("/api/v1/scheduling/slots/", payload, format="json").status_code == 201

    overlap = api.post("/api/v1/scheduling/slots/", {**payload, "start_time": "09:30", "end_time": "11:00"})
    past = api.post(
        "/api/v1/scheduling/slots/", {**payload, "day": (timezone.localdate() - timedelta(days=3)).isoformat()}
    )

    assert overlap.status_code == 400
    assert overlap.json()["error"]["fields"]["start_time"][0].endswith("already has clinic slots in this period.")
    assert past.status_code == 400 and "day" in past.json()["error"]["fields"]
    assert AppointmentSlot.objects.count() == 4


def test_book_a_slot_then_the_same_slot_again_is_409_slot_taken(api, doctor):
    slot = make_slot(doctor)
    patient, other = patient_of(doctor), patient_of(doctor, "李", "雷")

    first = api.post(BOOK_URL, {"slot": str(slot.external_id), "patient": str(patient.external_id)}, format="json")
    second = api.post(BOOK_URL, {"slot": str(slot.external_id), "patient": str(other.external_id)}, format="json")

    assert first.status_code == 201
    body = first.json()
    assert (body["status"], body["patient"]["external_id"], body["slot"]) == (
        "booked",
        str(patient.external_id),
        str(slot.external_id),
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "slot_taken"
    assert second.json()["error"]["message"] == "This slot is already booked."
    assert Appointment.objects.count() == 1


def test_booking_a_slot_in_the_past_is_400_and_writes_nothing(api, doctor):
    slot = make_slot(doctor, starts_in_minutes=-120)
    patient = patient_of(doctor)
    log_before = AccessLog.objects.count()

    response = api.post(BOOK_URL, {"slot": str(slot.external_id), "patient": str(patient.external_id)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"slot": ["This slot is in the past."]}
    assert not Appointment.objects.exists()
    assert AccessLog.objects.count() == log_before


@pytest.mark.parametrize(
    "payload",
    [
        {"slot": "not-a-uuid"},
        {"slot": "00000000-0000-0000-0000-000000000000"},
        {"patient": "00000000-0000-0000-0000-000000000000"},
        {"reason": "x" * 301},
    ],
)
def test_bad_booking_input_is_400_with_field_errors(api, doctor, payload):
    data = {"slot": str(make_slot(doctor).external_id), "patient": str(patient_of(doctor).external_id), **payload}

    response = api.post(BOOK_URL, data, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(payload)
    assert not Appointment.objects.exists()


def test_a_patient_the_booker_may_not_see_cannot_be_booked(api, doctor):
    stranger = make_patient("赵", "敏")

    response = api.post(
        BOOK_URL, {"slot": str(make_slot(doctor).external_id), "patient": str(stranger.external_id)}, format="json"
    )

    assert response.status_code == 400
    assert "patient" in response.json()["error"]["fields"]


def test_reschedule_to_a_taken_slot_is_409_and_changes_nothing(api, doctor):
    appointment = book(make_slot(doctor), patient_of(doctor))
    taken = make_slot(doctor, starts_in_minutes=180)
    book(taken, make_patient("李", "雷"))
    free = make_slot(doctor, starts_in_minutes=300)

    conflict = api.post(_url(appointment, "reschedule"), {"slot": str(taken.external_id)}, format="json")
    appointment.refresh_from_db()
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "slot_taken"
    assert appointment.status == "booked"

    moved = api.post(_url(appointment, "reschedule"), {"slot": str(free.external_id)}, format="json")
    assert moved.status_code == 201
    assert moved.json()["rescheduled_from"] == str(appointment.external_id)
    assert moved.json()["slot"] == str(free.external_id)


def test_queue_transitions_through_the_api_and_seen_opens_the_chart(api, doctor):
    patient = make_patient()
    appointment = book(make_slot(doctor, starts_in_minutes=0, minutes=20), patient)
    chart_url = f"/api/v1/emr/patients/{patient.external_id}/encounters/"
    assert api.get(chart_url).status_code == 403

    assert api.post(_url(appointment, "call")).status_code == 400  # not checked in yet
    for action, status in (("check-in", "checked_in"), ("call", "called"), ("seen", "seen")):
        response = api.post(_url(appointment, action))
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == status

    encounter = Encounter.objects.get(appointment=appointment)
    assert response.json()["encounter"] == str(encounter.external_id)
    assert api.get(chart_url).status_code == 200
    again = api.post(_url(appointment, "seen"))
    assert again.status_code == 400
    assert "this appointment is Seen" in again.json()["error"]["fields"]["status"][0]


def test_cancel_through_the_api(api, doctor):
    appointment = book(make_slot(doctor), make_patient())

    response = api.post(_url(appointment, "cancel"), {"reason": "unwell"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.post(_url(appointment, "cancel")).status_code == 400


def test_queue_is_ordered_and_costs_a_fixed_number_of_queries(api, doctor, django_assert_num_queries):
    now = timezone.now()

    def queue_of(n):
        Appointment.objects.all().delete()
        AppointmentSlot.objects.all().delete()
        made = []
        for i in range(n):
            slot = make_slot(doctor, starts_in_minutes=i * 5, minutes=5)
            made.append(book(slot, make_patient("病人", f"{i}")))
        return made

    appointments = queue_of(4)
    booked, waiting_late, waiting_early, called = appointments
    Appointment.objects.filter(pk=waiting_late.pk).update(status="checked_in", checked_in_at=now)
    early = now - timedelta(minutes=9)
    Appointment.objects.filter(pk=waiting_early.pk).update(status="checked_in", checked_in_at=early)
    Appointment.objects.filter(pk=called.pk).update(status="called", checked_in_at=now, called_at=now)

    api.get("/api/v1/scheduling/appointments/queue/")  # the user's permissions are cached from here on
    # the queue (1) and its access-log entry (savepoint, chain lock, chain head, id, insert, release)
    with django_assert_num_queries(7):
        response = api.get("/api/v1/scheduling/appointments/queue/")
    order = [row["external_id"] for row in response.json()]
    assert order == [str(a.external_id) for a in (called, waiting_early, waiting_late, booked)]

    queue_of(12)
    with django_assert_num_queries(7):
        response = api.get("/api/v1/scheduling/appointments/queue/")
    assert len(response.json()) == 12


def test_queue_reads_are_access_logged_once(api, doctor):
    book(make_slot(doctor, starts_in_minutes=0), make_patient())

    api.get("/api/v1/scheduling/appointments/queue/")

    entry = AccessLog.objects.filter(object_type="scheduling.appointment").get()
    assert entry.action == "read"
    assert entry.detail["count"] == 1 and entry.detail["clinician"] == "dr.lin"


def test_patient_appointments_list_is_scoped_and_logged(api, doctor):
    patient = patient_of(doctor)
    book(make_slot(doctor), patient)
    stranger = make_patient("赵", "敏")

    mine = api.get(BOOK_URL, {"patient": str(patient.external_id)})
    theirs = api.get(BOOK_URL, {"patient": str(stranger.external_id)})

    assert mine.status_code == 200 and len(mine.json()) == 1
    assert theirs.status_code == 404
    logged = AccessLog.objects.filter(object_type="scheduling.appointment", patient_external_id=patient.external_id)
    assert logged.exists()


@pytest.mark.parametrize("role", ["pharmacist", "finance_officer", "records_archivist"])
def test_roles_without_scheduling_permissions_are_refused(role, doctor):
    client = APIClient()
    client.force_authenticate(make_user(f"u.{role}", role))
    slot = make_slot(doctor)

    payload = {"slot": str(slot.external_id), "patient": str(make_patient().external_id)}
    assert client.post(BOOK_URL, payload).status_code == 403
    assert client.get(reverse("scheduling-clinic-queue")).status_code == 403
    assert not Appointment.objects.exists()


def test_nurses_book_and_run_the_queue():
    nurse = make_user("nurse.wu", "nurse")
    doctor = make_user("dr.lin", "doctor")
    client = APIClient()
    client.force_authenticate(nurse)
    patient = patient_of(nurse)
    slot = make_slot(doctor, starts_in_minutes=0)

    booked = client.post(BOOK_URL, {"slot": str(slot.external_id), "patient": str(patient.external_id)}, format="json")
    checked = client.post(f"/api/v1/scheduling/appointments/{booked.json()['external_id']}/check-in/")
    queue = client.get("/api/v1/scheduling/appointments/queue/", {"clinician": str(doctor.external_id)})

    assert (booked.status_code, checked.status_code, queue.status_code) == (201, 200, 200)
    assert [row["status"] for row in queue.json()] == ["checked_in"]
