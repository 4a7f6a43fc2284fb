"""The clinician's current patients, listed on the patients page before any search."""

import pytest
from django.utils import timezone

from emr.selectors.patients import patients_under_care
from emr.services.encounters import encounter_finish
from hospital.core.models import AccessLog
from tests.emr.test_access_support import assign, make_patient, make_user, make_ward, start_inpatient, start_outpatient

pytestmark = pytest.mark.django_db


def test_lists_patients_with_an_open_encounter_the_clinician_may_see():
    doctor, nurse, other = make_user("dr.a", "doctor"), make_user("n.b", "nurse"), make_user("dr.c", "doctor")
    ward, other_ward = make_ward("W1"), make_ward("W2")
    assign(nurse, ward)
    inpatient = make_patient("王", "芳")
    start_inpatient(inpatient, doctor, ward)
    outpatient = make_patient("李", "雷")
    visit = start_outpatient(outpatient, doctor)
    elsewhere = make_patient("赵", "敏")
    start_inpatient(elsewhere, other, other_ward)
    finished = make_patient("钱", "程")
    encounter_finish(encounter=start_outpatient(finished, doctor), finished_by=doctor, ended_at=timezone.now())

    assert {p.pk for p in patients_under_care(user=doctor)} == {inpatient.pk, outpatient.pk}
    # The ward nurse sees the ward's inpatient, not the doctor's outpatient nor another ward's patient
    assert [p.pk for p in patients_under_care(user=nurse)] == [inpatient.pk]
    mine = {p.pk: p for p in patients_under_care(user=doctor)}
    assert mine[outpatient.pk].current_encounter == visit


def test_logs_one_search_without_names_and_nothing_for_non_clinicians():
    doctor, archivist = make_user("dr.a", "doctor"), make_user("arch", "records_archivist")
    start_outpatient(make_patient(), doctor)

    patients_under_care(user=doctor)
    assert patients_under_care(user=archivist) == []

    [entry] = AccessLog.objects.filter(action="search")
    assert entry.detail == {"kind": "under_care", "results": 1}


def test_query_count_does_not_grow_with_patients(django_assert_num_queries):
    doctor = make_user("dr.a", "doctor")
    for index in range(5):
        start_outpatient(make_patient("张", f"伟{index}"), doctor)
    doctor.has_role("doctor")

    with django_assert_num_queries(8):
        assert len(patients_under_care(user=doctor)) == 5
