"""Concurrent clicks on real PostgreSQL: one bed never holds two patients, whatever arrives at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from hospital.core.services.access_log import access_log_verify
from scheduling.models import AdtEvent, BedStay
from scheduling.services.adt import bed_stay_admit
from tests.scheduling.test_adt_support import bed, bed_manager, make_inpatient, make_ward

API = "/api/v1/scheduling"
ADMISSIONS = 50

OVERLAPPING_STAYS_SQL = """
    SELECT count(*) FROM scheduling_bedstay a JOIN scheduling_bedstay b
    ON a.bed_id = b.bed_id AND a.id < b.id AND a.period && b.period
"""


def _run_together(requests) -> list[tuple[int, dict] | BaseException]:
    """Send each request (a callable taking an APIClient) from its own thread and database connection,
    all released by one barrier; return each thread's (status, body) or the exception it raised."""
    start = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def send(index: int, request) -> None:
        try:
            client = APIClient()
            client.force_authenticate(request.user)
            start.wait()
            response = request(client)
            results[index] = (response.status_code, response.json())
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n, request)) for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class _Post:
    def __init__(self, user, url: str, payload: dict):
        self.user, self.url, self.payload = user, url, payload

    def __call__(self, client: APIClient):
        return client.post(self.url, self.payload, format="json")


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_admissions_to_one_bed_give_one_201_and_forty_nine_409():
    # given 50 inpatients waiting and one free bed, committed so that every connection sees them
    ward = make_ward("GM1", beds=2)
    manager = bed_manager()
    target = bed(ward, "01")
    encounters = [make_inpatient(ward, given_name=f"患者{n}") for n in range(ADMISSIONS)]

    # when 50 bed managers' clicks admit them all to that bed at the same moment
    results = _run_together(
        [
            _Post(manager, f"{API}/admissions/", {"encounter": str(e.external_id), "bed": str(target.external_id)})
            for e in encounters
        ]
    )

    # then exactly one admission wins, the other 49 get a clear 409, and nothing fails
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    statuses = sorted(status for status, _body in results)
    assert statuses == [201] + [409] * (ADMISSIONS - 1)
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "bed_conflict"
            assert "already occupied" in body["error"]["message"]
    # and the database holds one stay, no overlap, one admit event, and an unbroken access log
    assert BedStay.objects.count() == 1
    winner = next(body for status, body in results if status == 201)
    assert str(BedStay.objects.get().external_id) == winner["external_id"]
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_STAYS_SQL)
        assert cursor.fetchone()[0] == 0
    assert AdtEvent.objects.filter(event_type="admit").count() == 1
    assert access_log_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_transfer_and_a_discharge_of_one_patient_at_once_serialise():
    ward = make_ward("GM1", beds=12)
    manager = bed_manager()
    for round_ in range(5):
        # given a patient in a bed
        encounter = make_inpatient(ward)
        bed_stay_admit(
            encounter=encounter, bed=bed(ward, f"{round_ * 2 + 1:02d}"), admitted_by=manager,
            at=timezone.now() - timedelta(hours=1),
        )  # fmt: skip
        to_bed = bed(ward, f"{round_ * 2 + 2:02d}")

        # when a transfer and a discharge of that patient arrive together
        transfer, discharge = _run_together(
            [
                _Post(manager, f"{API}/encounters/{encounter.external_id}/transfer/", {"bed": str(to_bed.external_id)}),
                _Post(manager, f"{API}/encounters/{encounter.external_id}/discharge/", {}),
            ]
        )

        # then one runs after the other: the discharge always succeeds, the transfer only if it came first
        assert not isinstance(transfer, BaseException) and not isinstance(discharge, BaseException)
        assert discharge[0] == 200
        assert transfer[0] in (201, 400)
        assert not BedStay.objects.filter(encounter=encounter, period__endswith__isnull=True).exists()
        events = list(AdtEvent.objects.filter(encounter=encounter).values_list("event_type", flat=True))
        assert events == (["admit", "transfer", "discharge"] if transfer[0] == 201 else ["admit", "discharge"])
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_STAYS_SQL)
        assert cursor.fetchone()[0] == 0
