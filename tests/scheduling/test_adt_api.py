"""The bed API: status codes, error bodies, permissions, and that refused requests write nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hospital.core.models import AccessLog
from scheduling.models import AdtEvent, BedStay
from scheduling.services.adt import bed_block, bed_cleaning_request, bed_stay_admit
from tests.factories import UserFactory
from tests.scheduling.test_adt_support import bed, bed_manager, make_inpatient, make_ward, nurse, row_counts

pytestmark = pytest.mark.django_db

API = "/api/v1/scheduling"


@pytest.fixture
def ward():
    return make_ward("GM1", beds=4)


@pytest.fixture
def manager():
    return bed_manager()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(manager):
    return client_for(manager)


def _admit(api, encounter, target, **extra):
    return api.post(
        f"{API}/admissions/", {"encounter": str(encounter.external_id), "bed": str(target.external_id), **extra},
        format="json",
    )  # fmt: skip


def test_admission_answers_201_with_the_stay(api, ward):
    encounter = make_inpatient(ward)
    target = bed(ward, "01")

    response = _admit(api, encounter, target, expected_discharge_on=str(timezone.localdate() + timedelta(days=4)))

    assert response.status_code == 201, response.json()
    body = response.json()
    stay = BedStay.objects.get()
    assert body["external_id"] == str(stay.external_id)
    assert body["bed"]["code"] == "01" and body["bed"]["ward_code"] == "GM1"
    assert body["encounter"] == str(encounter.external_id) and body["patient"] == str(encounter.patient.external_id)
    assert body["end"] is None and body["expected_discharge_on"] == str(timezone.localdate() + timedelta(days=4))


def test_admission_to_an_occupied_bed_answers_409_bed_conflict(api, ward):
    target = bed(ward, "01")
    bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=UserFactory(username="x"))
    before = row_counts()

    response = _admit(api, make_inpatient(ward), target)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "bed_conflict"
    assert "already occupied" in error["message"]
    assert row_counts() == before


@pytest.mark.parametrize("make_unavailable", ["blocked", "cleaning"])
def test_admission_to_a_blocked_or_cleaning_bed_answers_400_and_writes_nothing(api, manager, ward, make_unavailable):
    target = bed(ward, "01")
    if make_unavailable == "blocked":
        bed_block(bed=target, reason="Broken rail", blocked_by=manager)
    else:
        bed_cleaning_request(bed=target, requested_by=manager)
    before = row_counts()
    log_before = AccessLog.objects.count()

    response = _admit(api, make_inpatient(ward), target)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "bed" in error["fields"]
    assert row_counts() == before
    assert AccessLog.objects.count() == log_before


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"encounter": "not-a-uuid", "bed": "also-not"},
        {"encounter": "00000000-0000-0000-0000-000000000000", "bed": "00000000-0000-0000-0000-000000000000"},
        {"at": "yesterday"},
    ],
)
def test_admission_with_bad_fields_answers_400(api, ward, payload):
    response = api.post(f"{API}/admissions/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert not BedStay.objects.exists()


def test_admission_in_the_future_answers_400(api, ward):
    response = _admit(api, make_inpatient(ward), bed(ward, "01"), at=(timezone.now() + timedelta(days=1)).isoformat())
    assert response.status_code == 400
    assert "at" in response.json()["error"]["fields"]


def test_transfer_to_the_same_bed_answers_400_and_to_another_201(api, manager, ward):
    encounter = make_inpatient(ward)
    bed_stay_admit(
        encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=timezone.now() - timedelta(hours=2)
    )
    before = row_counts()
    url = f"{API}/encounters/{encounter.external_id}/transfer/"

    same = api.post(url, {"bed": str(bed(ward, "01").external_id)}, format="json")

    assert same.status_code == 400
    assert "bed" in same.json()["error"]["fields"]
    assert row_counts() == before

    moved = api.post(url, {"bed": str(bed(ward, "02").external_id)}, format="json")

    assert moved.status_code == 201
    assert moved.json()["bed"]["code"] == "02"
    assert BedStay.objects.filter(encounter=encounter, period__endswith__isnull=True).count() == 1
    assert AdtEvent.objects.filter(event_type="transfer").count() == 1


def test_transfer_to_an_occupied_bed_answers_409(api, manager, ward):
    moving = make_inpatient(ward)
    hour_ago = timezone.now() - timedelta(hours=1)
    bed_stay_admit(encounter=moving, bed=bed(ward, "01"), admitted_by=manager, at=hour_ago)
    bed_stay_admit(encounter=make_inpatient(ward), bed=bed(ward, "02"), admitted_by=manager, at=hour_ago)

    response = api.post(
        f"{API}/encounters/{moving.external_id}/transfer/", {"bed": str(bed(ward, "02").external_id)}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "bed_conflict"


def test_discharge_before_the_admission_answers_400_and_a_valid_one_200(api, manager, ward):
    encounter = make_inpatient(ward, days_ago=3)
    admitted = timezone.now() - timedelta(hours=5)
    bed_stay_admit(encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=admitted)
    before = row_counts()
    url = f"{API}/encounters/{encounter.external_id}/discharge/"

    early = api.post(url, {"at": (admitted - timedelta(hours=1)).isoformat()}, format="json")

    assert early.status_code == 400
    assert "at" in early.json()["error"]["fields"]
    assert row_counts() == before

    done = api.post(url, {}, format="json")

    assert done.status_code == 200
    assert done.json()["end_reason"] == "discharge" and done.json()["end"] is not None
    assert AdtEvent.objects.filter(event_type="discharge").count() == 1


def test_unknown_encounter_answers_404(api):
    response = api.post(f"{API}/encounters/00000000-0000-0000-0000-000000000000/discharge/", {}, format="json")
    assert response.status_code == 404


def test_clean_block_and_unblock_answer_the_new_bed_state(api, manager, ward):
    encounter = make_inpatient(ward)
    target = bed(ward, "01")
    bed_stay_admit(encounter=encounter, bed=target, admitted_by=manager, at=timezone.now() - timedelta(hours=1))
    api.post(f"{API}/encounters/{encounter.external_id}/discharge/", {}, format="json")

    assert api.post(f"{API}/beds/{target.external_id}/clean/").json()["state"] == "free"
    assert api.post(f"{API}/beds/{target.external_id}/clean/").status_code == 400

    blocked = api.post(f"{API}/beds/{target.external_id}/block/", {"reason": "Bed rail"}, format="json")
    assert blocked.status_code == 201
    assert (blocked.json()["state"], blocked.json()["block_reason"]) == ("blocked", "Bed rail")
    assert api.post(f"{API}/beds/{target.external_id}/block/", {}, format="json").status_code == 400

    assert api.post(f"{API}/beds/{target.external_id}/unblock/").json()["state"] == "free"


def test_nurses_admit_and_clean_but_doctors_only_look(manager, ward):
    encounter = make_inpatient(ward)
    target = bed(ward, "01")
    doctor = client_for(UserFactory(username="dr.zhang", roles=["doctor"]))

    assert _admit(doctor, encounter, target).status_code == 403
    assert doctor.get(f"{API}/wards/").status_code == 200

    ward_nurse = client_for(nurse())
    assert _admit(ward_nurse, encounter, target).status_code == 201
    bed_cleaning_request(bed=bed(ward, "02"), requested_by=manager)
    assert ward_nurse.post(f"{API}/beds/{bed(ward, '02').external_id}/clean/").status_code == 200
    assert ward_nurse.post(f"{API}/beds/{bed(ward, '03').external_id}/block/", {"reason": "x"}).status_code == 403


def test_anonymous_requests_are_refused(ward):
    assert APIClient().get(f"{API}/wards/").status_code in (401, 403)


def test_ward_occupancy_and_ward_beds(api, manager, ward):
    encounter = make_inpatient(ward, family_name="张", given_name="伟")
    bed_stay_admit(
        encounter=encounter, bed=bed(ward, "02"), admitted_by=manager,
        expected_discharge_on=timezone.localdate() + timedelta(days=2),
    )  # fmt: skip
    bed_block(bed=bed(ward, "04"), reason="Repair", blocked_by=manager)

    wards = api.get(f"{API}/wards/").json()
    assert [(w["code"], w["capacity"], w["occupied"], w["free"], w["blocked"]) for w in wards] == [("GM1", 4, 1, 2, 1)]
    log_before = AccessLog.objects.filter(object_type="scheduling.bedboard").count()

    beds = api.get(f"{API}/wards/{ward.external_id}/beds/").json()

    assert [(b["code"], b["state"]) for b in beds] == [("01", "free"), ("02", "occupied"), ("03", "free"),
                                                       ("04", "blocked")]  # fmt: skip
    occupied = beds[1]
    assert occupied["patient"]["family_name"] == "张"
    assert occupied["expected_discharge_on"] == str(timezone.localdate() + timedelta(days=2))
    assert occupied["encounter"] == str(encounter.external_id)
    assert beds[0]["patient"] is None and beds[3]["block_reason"] == "Repair"
    assert AccessLog.objects.filter(object_type="scheduling.bedboard").count() == log_before + 1


@pytest.mark.parametrize("beds", [10, 100])
def test_ward_beds_query_count_does_not_grow_with_beds(api, manager, django_assert_num_queries, beds):
    ward = make_ward(f"N{beds}", beds=beds)
    for target in list(ward.beds.order_by("code"))[::3]:
        bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=manager)
    api.get(f"{API}/wards/")  # warm the session's user and permission caches

    # the ward, 4 for the states, and 6 for the access log entry (savepoint, chain lock, head, id, insert, release)
    with django_assert_num_queries(11):
        response = api.get(f"{API}/wards/{ward.external_id}/beds/")
    assert len(response.json()) == beds


def test_adt_events_since_for_integration_clients(api, manager, ward):
    encounter = make_inpatient(ward)
    bed_stay_admit(
        encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=timezone.now() - timedelta(hours=2)
    )
    cut = timezone.now()
    api.post(f"{API}/encounters/{encounter.external_id}/transfer/", {"bed": str(bed(ward, "02").external_id)})
    api.post(f"{API}/encounters/{encounter.external_id}/discharge/", {})
    gateway = client_for(UserFactory(username="his.gateway", roles=["integration_client"], is_integration_client=True))

    everything = gateway.get(f"{API}/adt-events/")
    recent = gateway.get(f"{API}/adt-events/", {"since": cut.isoformat()})

    assert everything.status_code == 200
    assert [e["event_type"] for e in everything.json()["results"]] == ["admit", "transfer", "discharge"]
    assert [e["event_type"] for e in recent.json()["results"]] == ["transfer", "discharge"]
    transfer = recent.json()["results"][0]
    assert (transfer["from_bed"]["code"], transfer["to_bed"]["code"]) == ("01", "02")
    assert transfer["patient"] == str(encounter.patient.external_id)
    assert recent.json()["next_since"] is None
    assert gateway.get(f"{API}/adt-events/", {"since": "soon"}).status_code == 400
    assert (
        client_for(UserFactory(username="fin", roles=["finance_officer"])).get(f"{API}/adt-events/").status_code == 403
    )
