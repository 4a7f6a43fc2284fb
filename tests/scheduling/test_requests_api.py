"""The bed request API: queue, create, update, cancel, suggestions and one-call assignment (201 / 409 / 400)."""

import pytest
from rest_framework.test import APIClient

from emr.models import Encounter
from hospital.core.models import AccessLog
from scheduling.models import BedRequest, BedStay
from tests.scheduling.test_board_support import (
    bed,
    bed_manager,
    doctor,
    make_patient,
    make_ward,
    nurse,
    occupy,
    waiting_request,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/scheduling/bed-requests/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _url(request, suffix=""):
    return f"{LIST}{request.external_id}/{suffix}"


def test_queue_lists_waiting_requests_most_urgent_first_and_logs_once(django_assert_max_num_queries):
    requester = doctor()
    routine = waiting_request(make_patient("Sun", "Li"), requester, priority=4)
    urgent = waiting_request(make_patient("Zhou", "Yu"), requester, priority=1)
    waiting_request(make_patient("Wu", "Bo"), requester, priority=2, status="cancelled")
    client = _client(bed_manager())

    with django_assert_max_num_queries(12):
        response = client.get(LIST)

    assert response.status_code == 200
    assert [row["external_id"] for row in response.json()] == [str(urgent.external_id), str(routine.external_id)]
    assert response.json()[0]["patient"]["full_name"]
    assert AccessLog.objects.filter(object_type="scheduling.bedrequest", action="read").count() == 1


def test_create_by_a_bed_manager_and_bad_input_writes_nothing():
    patient = make_patient()
    client = _client(bed_manager())

    created = client.post(LIST, {"patient": str(patient.external_id), "source": "emergency",
                                 "specialty": "cardiology", "priority": 2}, format="json")  # fmt: skip
    bad = client.post(LIST, {"patient": str(make_patient("Zhao", "Lei").external_id), "source": "emergency",
                             "specialty": "astrology", "priority": 9}, format="json")  # fmt: skip

    assert created.status_code == 201
    assert created.json()["status"] == "waiting" and created.json()["specialty"] == "cardiology"
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"specialty", "priority"}
    assert BedRequest.objects.count() == 1


def test_only_a_treating_clinician_or_a_bed_manager_may_queue_a_patient():
    patient = make_patient()
    stranger = doctor()
    response = _client(stranger).post(
        LIST, {"patient": str(patient.external_id), "source": "emergency", "specialty": "cardiology"}, format="json"
    )
    assert response.status_code == 403

    Encounter.objects.create(
        patient=patient, encounter_class="emergency", started_at="2025-01-01T10:00Z", attending=stranger
    )
    response = _client(stranger).post(
        LIST, {"patient": str(patient.external_id), "source": "emergency", "specialty": "cardiology"}, format="json"
    )
    assert response.status_code == 201


def test_update_and_cancel_then_409_once_not_waiting():
    request = waiting_request(make_patient(), doctor())
    client = _client(bed_manager())

    patched = client.patch(_url(request), {"priority": 1}, format="json")
    cancelled = client.delete(_url(request), {"reason": "transferred out"}, format="json")
    again = client.delete(_url(request))

    assert patched.status_code == 200 and patched.json()["priority"] == 1
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409 and again.json()["error"]["code"] == "request_not_waiting"


def test_suggestions_have_beds_scores_and_reasons():
    make_ward("GM1", beds=2)
    request = waiting_request(make_patient(), doctor())

    response = _client(nurse()).get(_url(request, "suggestions/"), {"limit": 1})
    bad_limit = _client(nurse()).get(_url(request, "suggestions/"), {"limit": 0})

    assert response.status_code == 200
    (only,) = response.json()
    assert only["bed"]["ward"] == "GM1" and only["bed"]["code"] == "01"
    assert "Ward specialty matches" in only["reasons"] and only["score"] > 0
    assert bad_limit.status_code == 400


def test_assign_201_then_409_for_the_same_bed_and_400_for_a_blocked_rule():
    ward = make_ward("GM1", beds=2)
    female_ward = make_ward("F1", sex_policy="female", beds=1)
    first = waiting_request(make_patient("Li", "Ming", "male"), doctor())
    second = waiting_request(make_patient("Chen", "Gang", "male"), doctor())
    client = _client(bed_manager())
    target = bed(ward, "01")

    assigned = client.post(_url(first, "assign/"), {"bed": str(target.external_id)}, format="json")
    taken = client.post(_url(second, "assign/"), {"bed": str(target.external_id)}, format="json")
    wrong_sex = client.post(_url(second, "assign/"), {"bed": str(bed(female_ward).external_id)}, format="json")
    no_bed = client.post(_url(second, "assign/"), {}, format="json")

    assert assigned.status_code == 201
    body = assigned.json()
    assert body["request"]["status"] == "assigned"
    assert body["stay"]["bed"]["code"] == "01" and body["request"]["assigned_stay"]["bed"]["ward"] == "GM1"
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "bed_conflict"
    assert wrong_sex.status_code == 400 and "bed" in wrong_sex.json()["error"]["fields"]
    assert no_bed.status_code == 400
    assert BedStay.objects.count() == 1
    assert BedRequest.objects.get(pk=second.pk).status == "waiting"


def test_assigning_twice_is_a_409_and_nurses_may_not_assign():
    ward = make_ward("GM1", beds=2)
    occupy(bed(ward, "02"))
    request = waiting_request(make_patient(), doctor())
    manager = _client(bed_manager())
    target = {"bed": str(bed(ward, "01").external_id)}

    assert _client(nurse()).post(_url(request, "assign/"), target, format="json").status_code == 403
    assert manager.post(_url(request, "assign/"), target, format="json").status_code == 201
    again = manager.post(_url(request, "assign/"), target, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "request_not_waiting"


def test_unknown_request_is_404():
    client = _client(bed_manager())
    assert client.get(f"{LIST}00000000-0000-0000-0000-000000000000/").status_code == 404
