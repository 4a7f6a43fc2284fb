"""The demo inpatients lie in beds of their wards, and the bed board shows every state."""

import pytest
from django.db import connection

from emr.models import Encounter
from hospital.core.models import AccessLog
from hospital.demo import services
from hospital.demo.beds import bed_stays_for_inpatients
from scheduling.models import AdtEvent, BedBlock, BedCleaning, BedStay
from scheduling.selectors.beds import bed_states
from tests.demo.test_charts import reference_data  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_every_demo_inpatient_lies_in_one_bed_of_their_ward(reference_data):  # noqa: F811
    services.demo_hospital_seed(days=14, patient_count=60, seed=7)

    inpatients = list(Encounter.objects.filter(encounter_class="inpatient", status="in_progress"))
    assert inpatients
    open_stays = {
        s.encounter_id: s for s in BedStay.objects.filter(period__endswith__isnull=True).select_related("bed")
    }
    for encounter in inpatients:
        stay = open_stays[encounter.pk]
        assert stay.bed.ward_id == encounter.ward_id
        assert stay.period.lower == encounter.started_at
        assert stay.expected_discharge_on is not None
    assert AdtEvent.objects.filter(event_type="admit").count() == len(inpatients)
    assert AccessLog.objects.filter(object_type="scheduling.bedstay", purpose="demo hospital seeding").count() == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM scheduling_bedstay a JOIN scheduling_bedstay b "
            "ON a.bed_id = b.bed_id AND a.id < b.id AND a.period && b.period"
        )
        assert cursor.fetchone()[0] == 0
    # the board shows every state: occupied beds are exactly the inpatients' beds
    states = [s.state for s in bed_states().values()]
    assert states.count("occupied") == len(inpatients)
    assert states.count("blocked") == 2
    assert states.count("cleaning") >= 1
    assert "free" in states


def test_placing_demo_inpatients_twice_writes_nothing(reference_data):  # noqa: F811
    services.demo_hospital_seed(days=14, patient_count=40, seed=3)
    counts = [model.objects.count() for model in (BedStay, AdtEvent, BedCleaning, BedBlock, AccessLog)]

    assert bed_stays_for_inpatients(seed=3) == 0

    assert [model.objects.count() for model in (BedStay, AdtEvent, BedCleaning, BedBlock, AccessLog)] == counts
