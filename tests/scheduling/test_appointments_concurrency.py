"""Twenty people booking one slot at the same moment, through the API on real PostgreSQL connections."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from scheduling.models import Appointment
from tests.scheduling.test_appointments_support import make_slot, make_user, patient_of

BOOKERS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_bookings_of_one_slot_give_one_201_and_nineteen_409():
    # given one free slot, and twenty nurses each about to book it for a patient of theirs
    doctor = make_user("dr.lin", "doctor")
    slot = make_slot(doctor)
    nurses = [make_user(f"nurse{n}", "nurse") for n in range(BOOKERS)]
    patients = [patient_of(nurse, "病人", str(n)) for n, nurse in enumerate(nurses)]
    start = threading.Barrier(BOOKERS)
    responses: list = [None] * BOOKERS
    errors: list[BaseException] = []

    def post(n: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(nurses[n])
            payload = {"slot": str(slot.external_id), "patient": str(patients[n].external_id)}
            start.wait()
            responses[n] = client.post("/api/v1/scheduling/appointments/", payload, format="json")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # when all twenty post at once, each on its own database connection
    threads = [threading.Thread(target=post, args=(n,)) for n in range(BOOKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then exactly one booking wins; the nineteen others get a clear 409 and nobody gets a 500
    assert errors == []
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * (BOOKERS - 1)
    conflicts = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {(e["code"], e["message"]) for e in conflicts} == {("slot_taken", "This slot is already booked.")}
    # and the database holds one live booking of the slot, for the winner's patient
    winner = next(r for r in responses if r.status_code == 201).json()
    live = Appointment.objects.filter(slot=slot, status__in=Appointment.LIVE_STATUSES)
    assert live.count() == 1 == Appointment.objects.count()
    assert str(live.get().patient.external_id) == winner["patient"]["external_id"]
