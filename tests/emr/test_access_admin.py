"""Admin of encounters, break-the-glass grants and ward assignments; the API's OpenAPI entries."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from emr.models import BreakGlassAccess
from emr.services.access import break_glass_grant
from hospital.core.models import AccessLog
from tests.emr.test_access_support import assign, make_patient, make_user, make_ward, start_inpatient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, settings):
    settings.OTP_REQUIRED_FOR_ADMINS = False
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def grant():
    doctor, nurse, ward = make_user("dr_adm", "doctor"), make_user("nurse_adm", "nurse"), make_ward("W1")
    assign(nurse, ward)
    patient = make_patient()
    start_inpatient(patient, doctor, ward)
    return break_glass_grant(user=make_user("nurse_other", "nurse"), patient=patient, reason="Covering the night shift")


def test_encounter_and_ward_assignment_admin_pages_open_read_only(admin_client, grant):
    encounter = grant.patient.encounters.get()

    assert admin_client.get(reverse("admin:emr_encounter_changelist")).status_code == 200
    detail = admin_client.get(reverse("admin:emr_encounter_change", args=[encounter.pk]))
    assert detail.status_code == 200
    assert escape(str(encounter.attending)) in detail.content.decode()  # the care team inline
    assert admin_client.get(reverse("admin:emr_encounter_add")).status_code == 403
    assert admin_client.get(reverse("admin:scheduling_wardassignment_changelist")).status_code == 200


def test_saving_a_grant_in_the_admin_records_the_review_through_the_service(admin_client, grant):
    unreviewed = admin_client.get(reverse("admin:emr_breakglassaccess_changelist") + "?reviewed=no")
    assert unreviewed.status_code == 200 and grant.patient.mrn in unreviewed.content.decode()

    url = reverse("admin:emr_breakglassaccess_change", args=[grant.pk])
    response = admin_client.post(url, {"review_note": "Night cover confirmed by the rota."})

    assert response.status_code == 302
    grant = BreakGlassAccess.objects.get(pk=grant.pk)
    assert (grant.reviewed_by.username, grant.review_note) == ("root", "Night cover confirmed by the rota.")
    assert grant.reason == "Covering the night shift"
    review = AccessLog.objects.get(action="write", object_type="emr.breakglassaccess")
    assert review.detail == {"review": True}
    delete = admin_client.post(reverse("admin:emr_breakglassaccess_delete", args=[grant.pk]), {"post": "yes"})
    assert delete.status_code == 403


def test_encounter_and_break_glass_endpoints_are_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/emr/patients/{external_id}/encounters/"])
    assert "post" in paths["/api/v1/emr/patients/{external_id}/break-glass/"]
    assert "post" in paths["/api/v1/emr/encounters/{external_id}/finish/"]
    assert "delete" in paths["/api/v1/emr/encounters/{external_id}/care-team/{user_id}/"]
    assert {p["name"] for p in paths["/api/v1/emr/break-glass/"]["get"]["parameters"]} >= {"unreviewed", "page"}
