"""Placement suggestions: hard rules never broken, the best bed first, reasons given, a fixed number of queries."""

import pytest
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from scheduling.models import BedBlock
from scheduling.selectors.requests import placement_suggestions
from tests.scheduling.test_board_support import (
    bed,
    dirty,
    doctor,
    make_patient,
    make_ward,
    occupy,
    put_in_room,
    waiting_request,
)

pytestmark = pytest.mark.django_db


def _beds(suggestions):
    return [f"{s.bed.ward.code}/{s.bed.code}" for s in suggestions]


def _request(sex="female", **fields):
    return waiting_request(make_patient(sex=sex), doctor(), **fields)


def test_only_free_beds_are_suggested():
    ward = make_ward("GM1", beds=4)
    occupy(bed(ward, "01"))
    dirty(bed(ward, "02"))
    BedBlock.objects.create(
        bed=bed(ward, "03"), period=DateTimeTZRange(timezone.now(), None), reason="broken", created_by=doctor()
    )

    assert _beds(placement_suggestions(request=_request())) == ["GM1/04"]


def test_single_sex_wards_and_rooms_of_the_other_sex_are_never_suggested():
    make_ward("F1", sex_policy="female", beds=2)
    mixed = make_ward("MX1", beds=3)
    put_in_room(mixed, ["01", "02"], sex_policy="female")
    male = _request(sex="male")
    female = _request(sex="female")
    unknown = _request(sex="unknown")

    assert _beds(placement_suggestions(request=male, limit=10)) == ["MX1/03"]
    assert set(_beds(placement_suggestions(request=female, limit=10))) == {
        "F1/01",
        "F1/02",
        "MX1/01",
        "MX1/02",
        "MX1/03",
    }
    assert _beds(placement_suggestions(request=unknown, limit=10)) == ["MX1/03"]


def test_isolation_is_a_hard_rule_when_needed_and_isolation_beds_come_last_otherwise():
    ward = make_ward("GM1", beds=4)
    put_in_room(ward, ["01"], room_code="ISO", is_isolation=True)
    isolation_ward = make_ward("IS1", beds=1, bed_type="isolation")

    needs = placement_suggestions(request=_request(needs_isolation=True), limit=10)
    plain = placement_suggestions(request=_request(), limit=10)

    assert set(_beds(needs)) == {"GM1/01", "IS1/01"}
    assert "Isolation room" in next(s for s in needs if s.bed.code == "01" and s.bed.ward == ward).reasons
    assert set(_beds(plain)[-2:]) == {"GM1/01", "IS1/01"} and len(plain) == 5
    assert isolation_ward.beds.get().bed_type == "isolation"


def test_nursing_level_must_be_at_least_the_one_needed():
    make_ward("GM1", beds=2)
    make_ward("HD1", beds=1, nursing_level="high_dependency")

    suggestions = placement_suggestions(request=_request(nursing_level="high_dependency"), limit=10)

    assert _beds(suggestions) == ["HD1/01"]
    assert "Nursing level matches" in suggestions[0].reasons


def test_icu_beds_are_kept_for_critical_care():
    make_ward("ICU", specialty="critical_care", nursing_level="intensive", beds=2, bed_type="icu")
    make_ward("GM1", beds=1)

    general = placement_suggestions(request=_request(), limit=10)
    critical = placement_suggestions(request=_request(specialty="critical_care", nursing_level="intensive"), limit=10)

    assert _beds(general) == ["GM1/01"]
    assert _beds(critical) == ["ICU/01", "ICU/02"]


def test_specialty_ranks_first_with_its_reason_then_the_ward_with_more_room():
    make_ward("CA1", specialty="cardiology", beds=2)
    busy = make_ward("GM1", beds=4)
    for code in ("01", "02", "03"):
        occupy(bed(busy, code))
    make_ward("GM2", beds=4)

    suggestions = placement_suggestions(request=_request(), limit=10)

    assert _beds(suggestions)[:5] == ["GM2/01", "GM2/02", "GM2/03", "GM2/04", "GM1/04"]
    assert _beds(suggestions)[5:] == ["CA1/01", "CA1/02"]
    assert suggestions[0].reasons[0] == "Ward specialty matches"
    assert "4 of 4 beds free on this ward" in suggestions[0].reasons
    assert suggestions[-1].reasons[0] == "Outlier: Cardiology ward"
    assert suggestions[0].score > suggestions[4].score > suggestions[-1].score


def test_a_ward_of_the_matching_department_beats_an_outlier():
    make_ward("RS1", specialty="general_medicine", department_specialty="respiratory", beds=1)
    make_ward("OR1", specialty="orthopaedics", beds=1)

    suggestions = placement_suggestions(request=_request(specialty="respiratory"), limit=10)

    assert _beds(suggestions) == ["RS1/01", "OR1/01"]
    assert suggestions[0].reasons[0] == "Ward of the matching department"


def test_reasons_are_translated():
    from django.utils import translation

    make_ward("GM1", beds=1)
    request = _request()
    with translation.override("zh-hans"):
        reasons = placement_suggestions(request=request)[0].reasons
    # Until the catalogue has the new sentences the English stands in; the call must not fail either way.
    assert reasons and all(isinstance(reason, str) for reason in reasons)


def test_a_request_no_longer_waiting_gets_no_suggestions():
    make_ward("GM1", beds=1)
    request = _request()
    request.status = "cancelled"

    assert placement_suggestions(request=request) == []


@pytest.mark.parametrize("wards", [1, 6])
def test_suggestions_take_a_fixed_number_of_queries(wards, django_assert_num_queries):
    for index in range(wards):
        ward = make_ward(f"W{index}", beds=8)
        occupy(bed(ward, "01"))
        dirty(bed(ward, "02"))
    request = _request()

    # bed states (beds, stays, cleanings, blocks) and the departments' specialties
    with django_assert_num_queries(5):
        suggestions = placement_suggestions(request=request, limit=50)

    assert len(suggestions) == 6 * wards
