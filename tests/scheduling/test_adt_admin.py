"""The admin lists rooms, stays, blocks, cleanings and ADT events; stays and events are view-only there."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from scheduling.models import Room
from scheduling.services.adt import bed_block, bed_stay_admit, bed_stay_discharge
from tests.factories import UserFactory
from tests.scheduling.test_adt_support import bed, bed_manager, make_inpatient, make_ward

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(settings):
    settings.OTP_REQUIRED_FOR_ADMINS = False
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_changelists_show_the_rows(admin_client):
    ward = make_ward("GM1", beds=3)
    Room.objects.create(ward=ward, code="R1")
    manager = bed_manager()
    encounter = make_inpatient(ward)
    bed_stay_admit(
        encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=timezone.now() - timedelta(hours=1)
    )
    bed_stay_discharge(encounter=encounter, discharged_by=manager)
    bed_block(bed=bed(ward, "02"), reason="Broken rail", blocked_by=manager)

    for model, text in [("room", "GM1/R1"), ("bedstay", "GM1/01"), ("bedblock", "Broken rail"),
                        ("bedcleaning", "GM1/01"), ("adtevent", "Discharge")]:  # fmt: skip
        response = admin_client.get(f"/admin/scheduling/{model}/")
        assert response.status_code == 200, model
        assert text in response.content.decode(), model


@pytest.mark.parametrize("model", ["bedstay", "adtevent"])
def test_stays_and_events_cannot_be_added_in_the_admin(admin_client, model):
    assert admin_client.get(f"/admin/scheduling/{model}/add/").status_code == 403
