"""The admin shows notes and observations but offers no way to change them."""

import pytest

from emr.services.observations import vital_signs_record
from tests.emr.test_notes_support import make_encounter, make_icd10, make_patient, make_signed_note
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_notes_and_observations_are_view_only_in_the_admin(client, doctor, settings):
    settings.OTP_REQUIRED_FOR_ADMINS = False  # the second factor is tested in tests/core
    make_icd10()
    encounter = make_encounter(make_patient(), doctor)
    note = make_signed_note(encounter, doctor)
    vital_signs_record(patient=encounter.patient, recorded_by=doctor, heart_rate=80)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    for url in ("/admin/emr/clinicalnote/", f"/admin/emr/clinicalnote/{note.pk}/change/", "/admin/emr/observation/"):
        response = client.get(url)
        assert response.status_code == 200, url
    detail = client.get(f"/admin/emr/clinicalnote/{note.pk}/change/").content.decode()
    assert "I20.0" in detail and 'name="_save"' not in detail
    assert client.get("/admin/emr/clinicalnote/add/").status_code == 403
