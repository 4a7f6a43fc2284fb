"""The booking page and the outpatient queue page: what they show, what their buttons do, their query counts."""

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Appointment, AppointmentSlot
from tests.scheduling.test_appointments_support import book, make_patient, make_slot, make_user, patient_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor():
    return make_user("dr.lin", "doctor")


@pytest.fixture
def signed_in(client, doctor):
    client.force_login(doctor)
    return client


def test_booking_page_lists_free_slots_and_books_one_for_the_chosen_patient(signed_in, doctor):
    slot = make_slot(doctor)
    taken = make_slot(doctor, starts_in_minutes=120)
    book(taken, make_patient("李", "雷"))
    patient = patient_of(doctor)
    day = timezone.localdate(slot.period.lower).isoformat()

    html = signed_in.get(
        reverse("scheduling:appointment_book"),
        {"clinician": doctor.external_id, "day": day, "patient": patient.external_id},
    ).content.decode()

    assert f'data-slot="{slot.external_id}"' in html
    assert f'data-slot="{taken.external_id}"' not in html
    assert 'data-testid="chosen-patient"' in html and patient.mrn in html

    response = signed_in.post(
        reverse("scheduling:appointment_book_submit"), {"slot": slot.external_id, "patient": patient.external_id}
    )
    assert response.status_code == 302
    assert Appointment.objects.get(slot=slot).patient == patient


def test_booking_a_taken_slot_from_the_page_says_so_and_writes_nothing(signed_in, doctor):
    slot = make_slot(doctor)
    book(slot, make_patient("李", "雷"))
    patient = patient_of(doctor)

    response = signed_in.post(
        reverse("scheduling:appointment_book_submit"),
        {"slot": slot.external_id, "patient": patient.external_id},
        follow=True,
    )

    assert "Someone else has just booked this slot" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_patient_search_on_the_booking_page_finds_only_the_users_patients(signed_in, doctor):
    patient_of(doctor, "Chen", "Jianguo")
    make_patient("Chen", "Xiaoli")

    html = signed_in.get(reverse("scheduling:appointment_book"), {"q": "Chen"}).content.decode()

    assert "Jianguo Chen" in html
    assert "Xiaoli" not in html


def test_cancel_and_reschedule_from_the_patients_list(signed_in, doctor):
    patient = patient_of(doctor)
    appointment = book(make_slot(doctor), patient)
    new_slot = make_slot(doctor, starts_in_minutes=120)

    signed_in.post(
        reverse("scheduling:appointment_reschedule", args=[appointment.external_id]), {"slot": new_slot.external_id}
    )
    moved = Appointment.objects.get(rescheduled_from=appointment)
    signed_in.post(reverse("scheduling:appointment_cancel", args=[moved.external_id]))

    assert list(Appointment.objects.order_by("id").values_list("status", flat=True)) == ["cancelled", "cancelled"]


def test_open_a_clinic_session_from_the_page(signed_in, doctor):
    day = (timezone.localdate() + timezone.timedelta(days=1)).isoformat()

    signed_in.post(
        reverse("scheduling:slots_generate"),
        {"day": day, "start_time": "13:00", "end_time": "14:00", "slot_minutes": "30", "location": "B2"},
    )
    again = signed_in.post(
        reverse("scheduling:slots_generate"),
        {"day": day, "start_time": "13:30", "end_time": "14:00", "slot_minutes": "30"},
        follow=True,
    )

    assert AppointmentSlot.objects.filter(clinician=doctor, location="B2").count() == 2
    assert "already has clinic slots in this period" in again.content.decode()


def test_queue_page_shows_four_columns_and_its_buttons_move_patients(signed_in, doctor):
    appointment = book(make_slot(doctor, starts_in_minutes=0, minutes=20), make_patient())

    html = signed_in.get(reverse("scheduling:appointment_queue")).content.decode()
    for column in ("booked", "checked_in", "called", "seen"):
        assert f'data-column="{column}"' in html
    assert 'hx-trigger="every 15s"' in html
    assert reverse("scheduling:appointment_transition", args=[appointment.external_id, "check-in"]) in html

    for action in ("check-in", "call", "seen"):
        response = signed_in.post(reverse("scheduling:appointment_transition", args=[appointment.external_id, action]))
        assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "seen" and appointment.encounter is not None

    bad = signed_in.post(
        reverse("scheduling:appointment_transition", args=[appointment.external_id, "call"]), follow=True
    )
    assert "Only a checked-in patient can be called" in bad.content.decode()


def test_queue_fragment_for_htmx_and_its_query_count(signed_in, doctor, django_assert_num_queries):
    for n in range(3):
        book(make_slot(doctor, starts_in_minutes=n * 10, minutes=10), make_patient("病人", str(n)))
    url = reverse("scheduling:appointment_queue")
    signed_in.get(url, HTTP_HX_REQUEST="true")

    # session, user, permissions (2), the queue (1), its access-log entry (6), role names, session save (3)
    with django_assert_num_queries(15) as few:
        small = signed_in.get(url, HTTP_HX_REQUEST="true")
    for n in range(3, 12):
        book(make_slot(doctor, starts_in_minutes=n * 10, minutes=10), make_patient("病人", str(n)))
    with django_assert_num_queries(len(few.captured_queries)):
        large = signed_in.get(url, HTTP_HX_REQUEST="true")

    assert "<html" not in small.content.decode()
    assert large.content.decode().count('class="queue-card"') == 12


@pytest.mark.parametrize("role", ["pharmacist", "records_archivist"])
def test_pages_are_for_clinicians(client, role):
    client.force_login(make_user(f"u.{role}", role))

    assert client.get(reverse("scheduling:appointment_book")).status_code == 403
    assert client.get(reverse("scheduling:appointment_queue")).status_code == 403


def test_slots_and_appointments_are_view_only_in_the_admin(client, doctor, settings):
    settings.OTP_REQUIRED_FOR_ADMINS = False  # the second factor is tested in tests/core
    slot = make_slot(doctor, location="Room 7")
    appointment = book(slot, make_patient())
    client.force_login(make_user("root", "administrator"))
    type(doctor).objects.filter(username="root").update(is_staff=True, is_superuser=True)

    for url in (
        "/admin/scheduling/appointmentslot/",
        f"/admin/scheduling/appointmentslot/{slot.pk}/change/",
        "/admin/scheduling/appointment/",
        f"/admin/scheduling/appointment/{appointment.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="_save"' not in response.content.decode()
    assert "Room 7" in client.get("/admin/scheduling/appointmentslot/").content.decode()
    assert client.get("/admin/scheduling/appointment/add/").status_code == 403
