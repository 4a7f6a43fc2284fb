"""Admit, transfer, discharge, housekeeping and blocks: what each service writes, and what it refuses."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from hospital.core.models import AccessLog
from scheduling import services
from scheduling.models import AdtEvent, BedBlock, BedCleaning, BedStay
from scheduling.selectors.beds import bed_state, bed_states, ward_occupancy
from scheduling.services.adt import (
    BedConflict,
    bed_block,
    bed_cleaning_complete,
    bed_cleaning_request,
    bed_stay_admit,
    bed_stay_discharge,
    bed_stay_transfer,
    bed_unblock,
)
from tests.scheduling.test_adt_support import bed, bed_manager, make_inpatient, make_ward, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward():
    return make_ward("GM1", beds=4)


@pytest.fixture
def manager():
    return bed_manager()


def _codes(exc: ValidationError, field: str) -> list[str]:
    return [error.code for error in exc.error_dict[field]]


def test_admission_opens_a_stay_writes_an_admit_event_and_logs_the_access(ward, manager):
    encounter = make_inpatient(ward)
    target = bed(ward, "01")

    stay = bed_stay_admit(encounter=encounter, bed=target, admitted_by=manager, expected_discharge_on=None)

    assert stay.period.upper is None and stay.bed == target and stay.encounter == encounter
    event = AdtEvent.objects.get()
    assert (event.event_type, event.to_bed, event.from_bed, event.patient) == ("admit", target, None, encounter.patient)
    assert event.occurred_at == stay.period.lower
    entry = AccessLog.objects.get(object_type="scheduling.bedstay")
    assert (entry.action, entry.object_id, entry.patient_external_id) == (
        "create", str(stay.external_id), encounter.patient.external_id
    )  # fmt: skip
    state = bed_state(bed=target)
    assert (state.state, state.patient, state.encounter) == ("occupied", encounter.patient, encounter)


def test_admission_to_an_occupied_bed_is_a_conflict(ward, manager):
    target = bed(ward, "01")
    bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=manager)
    before = row_counts()

    with pytest.raises(BedConflict) as caught:
        bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=manager)

    assert caught.value.code == "bed_conflict"
    assert row_counts() == before


def test_back_dated_admission_before_a_later_stay_of_the_bed_is_a_conflict(ward, manager):
    target = bed(ward, "01")
    first = make_inpatient(ward, days_ago=5)
    bed_stay_admit(encounter=first, bed=target, admitted_by=manager, at=timezone.now() - timedelta(days=1))

    with pytest.raises(BedConflict):
        bed_stay_admit(
            encounter=make_inpatient(ward, days_ago=5), bed=target, admitted_by=manager,
            at=timezone.now() - timedelta(days=3),
        )  # fmt: skip


def test_admission_to_a_blocked_bed_is_refused_and_writes_nothing(ward, manager):
    target = bed(ward, "01")
    bed_block(bed=target, reason="Broken rail", blocked_by=manager)
    before = row_counts()

    with pytest.raises(ValidationError) as caught:
        bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=manager)

    assert _codes(caught.value, "bed") == ["bed_blocked"]
    assert "Broken rail" in caught.value.message_dict["bed"][0]
    assert row_counts() == before


def test_admission_to_a_bed_waiting_for_cleaning_is_refused(ward, manager):
    target = bed(ward, "01")
    bed_cleaning_request(bed=target, requested_by=manager)
    before = row_counts()

    with pytest.raises(ValidationError) as caught:
        bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=manager)

    assert _codes(caught.value, "bed") == ["bed_cleaning"]
    assert row_counts() == before


def test_admission_to_an_inactive_bed_is_refused(ward, manager):
    target = bed(ward, "01")
    target.is_active = False
    target.save()

    with pytest.raises(ValidationError) as caught:
        bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=manager)
    assert _codes(caught.value, "bed") == ["bed_inactive"]
    assert not BedStay.objects.exists()


def test_a_patient_already_in_a_bed_is_not_admitted_twice(ward, manager):
    encounter = make_inpatient(ward)
    bed_stay_admit(encounter=encounter, bed=bed(ward, "01"), admitted_by=manager)
    before = row_counts()

    with pytest.raises(ValidationError) as caught:
        bed_stay_admit(encounter=encounter, bed=bed(ward, "02"), admitted_by=manager)

    assert _codes(caught.value, "encounter") == ["already_admitted"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"encounter_class": "outpatient", "ward": None}, "encounter"),
        ({"status": "finished", "ended_at": timezone.now()}, "encounter"),
        ({"status": "cancelled"}, "encounter"),
    ],
)
def test_only_in_progress_inpatient_encounters_get_a_bed(ward, manager, change, field):
    encounter = make_inpatient(ward)
    for name, value in change.items():
        setattr(encounter, name, value)
    encounter.save()

    with pytest.raises(ValidationError) as caught:
        bed_stay_admit(encounter=encounter, bed=bed(ward, "01"), admitted_by=manager)
    assert field in caught.value.message_dict
    assert not BedStay.objects.exists()


@pytest.mark.parametrize(("offset", "field"), [(timedelta(hours=1), "at"), (-timedelta(days=3), "at")])
def test_admission_time_is_neither_in_the_future_nor_before_the_encounter(ward, manager, offset, field):
    encounter = make_inpatient(ward, days_ago=2)

    with pytest.raises(ValidationError) as caught:
        bed_stay_admit(encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=timezone.now() + offset)
    assert field in caught.value.message_dict
    assert not BedStay.objects.exists()


def test_expected_discharge_cannot_be_before_the_admission(ward, manager):
    with pytest.raises(ValidationError) as caught:
        bed_stay_admit(
            encounter=make_inpatient(ward), bed=bed(ward, "01"), admitted_by=manager,
            expected_discharge_on=timezone.localdate() - timedelta(days=1),
        )  # fmt: skip
    assert "expected_discharge_on" in caught.value.message_dict


def test_the_exclusion_constraint_turns_an_unseen_overlap_into_a_bed_conflict(ward, manager, monkeypatch):
    # given a stay written past the checks (as a racing writer would), and the checks switched off
    target = bed(ward, "01")
    BedStay.objects.create(
        bed=target, encounter=make_inpatient(ward), period=DateTimeTZRange(timezone.now() - timedelta(hours=1), None),
        started_by=manager,
    )  # fmt: skip
    monkeypatch.setattr(services.adt, "_check_bed_available", lambda **kwargs: None)
    before = row_counts()

    # when another admission reaches the database, then it is a BedConflict and nothing is written
    with pytest.raises(BedConflict):
        bed_stay_admit(encounter=make_inpatient(ward), bed=target, admitted_by=manager)
    assert row_counts() == before
    assert not AccessLog.objects.filter(object_type="scheduling.bedstay").exists()


def test_transfer_ends_the_stay_opens_the_next_and_sends_the_old_bed_to_cleaning(ward, manager):
    encounter = make_inpatient(ward)
    first = bed_stay_admit(
        encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=timezone.now() - timedelta(hours=5),
        expected_discharge_on=timezone.localdate() + timedelta(days=3),
    )  # fmt: skip

    second = bed_stay_transfer(encounter=encounter, to_bed=bed(ward, "02"), transferred_by=manager)

    first.refresh_from_db()
    assert first.period.upper == second.period.lower
    assert (first.end_reason, first.ended_by) == ("transfer", manager)
    assert second.expected_discharge_on == first.expected_discharge_on
    assert BedStay.objects.filter(encounter=encounter, period__endswith__isnull=True).get() == second
    event = AdtEvent.objects.get(event_type="transfer")
    assert (event.from_bed, event.to_bed) == (bed(ward, "01"), bed(ward, "02"))
    states = bed_states(wards=[ward])
    assert states[bed(ward, "01").pk].state == "cleaning"
    assert states[bed(ward, "02").pk].state == "occupied"
    assert AccessLog.objects.filter(object_type="scheduling.bedstay", action="write").count() == 1


def test_transfer_to_the_same_bed_is_refused_and_writes_nothing(ward, manager):
    encounter = make_inpatient(ward)
    bed_stay_admit(
        encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=timezone.now() - timedelta(hours=1)
    )
    before = row_counts()

    with pytest.raises(ValidationError) as caught:
        bed_stay_transfer(encounter=encounter, to_bed=bed(ward, "01"), transferred_by=manager)

    assert _codes(caught.value, "bed") == ["same_bed"]
    assert row_counts() == before


def test_transfer_to_an_occupied_bed_is_a_conflict_and_keeps_the_patient_where_they_were(ward, manager):
    moving, staying = make_inpatient(ward), make_inpatient(ward)
    hour_ago = timezone.now() - timedelta(hours=1)
    bed_stay_admit(encounter=moving, bed=bed(ward, "01"), admitted_by=manager, at=hour_ago)
    bed_stay_admit(encounter=staying, bed=bed(ward, "02"), admitted_by=manager, at=hour_ago)
    before = row_counts()

    with pytest.raises(BedConflict):
        bed_stay_transfer(encounter=moving, to_bed=bed(ward, "02"), transferred_by=manager)
    assert row_counts() == before
    assert BedStay.objects.get(encounter=moving).period.upper is None


def test_transfer_to_another_ward_moves_the_encounter_to_that_ward(ward, manager):
    other = make_ward("GM2", beds=1)
    encounter = make_inpatient(ward)
    bed_stay_admit(
        encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=timezone.now() - timedelta(hours=1)
    )

    bed_stay_transfer(encounter=encounter, to_bed=bed(other, "01"), transferred_by=manager)

    encounter.refresh_from_db()
    assert encounter.ward == other


def test_transfer_of_a_patient_in_no_bed_is_refused(ward, manager):
    with pytest.raises(ValidationError) as caught:
        bed_stay_transfer(encounter=make_inpatient(ward), to_bed=bed(ward, "01"), transferred_by=manager)
    assert "encounter" in caught.value.message_dict


def test_discharge_ends_the_stay_and_the_bed_is_cleaning_until_housekeeping_is_done(ward, manager):
    encounter = make_inpatient(ward)
    target = bed(ward, "01")
    bed_stay_admit(encounter=encounter, bed=target, admitted_by=manager, at=timezone.now() - timedelta(hours=3))

    stay = bed_stay_discharge(encounter=encounter, discharged_by=manager)

    assert stay.period.upper is not None and stay.end_reason == "discharge"
    event = AdtEvent.objects.get(event_type="discharge")
    assert (event.from_bed, event.to_bed, event.occurred_at) == (target, None, stay.period.upper)
    encounter.refresh_from_db()
    assert encounter.status == "in_progress"  # the clinician finishes the encounter, not the bed manager
    state = bed_state(bed=target)
    assert (state.state, state.cleaning_since) == ("cleaning", stay.period.upper)
    assert BedCleaning.objects.get().stay == stay

    bed_cleaning_complete(bed=target, completed_by=manager)

    assert bed_state(bed=target).state == "free"
    with pytest.raises(ValidationError) as caught:
        bed_cleaning_complete(bed=target, completed_by=manager)
    assert _codes(caught.value, "bed") == ["not_cleaning"]


def test_discharge_before_the_admission_is_refused_and_writes_nothing(ward, manager):
    encounter = make_inpatient(ward, days_ago=3)
    admitted = timezone.now() - timedelta(hours=2)
    bed_stay_admit(encounter=encounter, bed=bed(ward, "01"), admitted_by=manager, at=admitted)
    before = row_counts()

    for at in (admitted - timedelta(hours=1), admitted):
        with pytest.raises(ValidationError) as caught:
            bed_stay_discharge(encounter=encounter, discharged_by=manager, at=at)
        assert "at" in caught.value.message_dict
    assert row_counts() == before


def test_discharge_of_a_patient_in_no_bed_or_with_an_unknown_reason_is_refused(ward, manager):
    encounter = make_inpatient(ward)
    with pytest.raises(ValidationError) as caught:
        bed_stay_discharge(encounter=encounter, discharged_by=manager)
    assert "encounter" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        bed_stay_discharge(encounter=encounter, discharged_by=manager, reason="transfer")
    assert "reason" in caught.value.message_dict


def test_a_discharged_patient_can_be_admitted_again_to_a_clean_bed(ward, manager):
    encounter = make_inpatient(ward)
    target = bed(ward, "01")
    bed_stay_admit(encounter=encounter, bed=target, admitted_by=manager, at=timezone.now() - timedelta(hours=3))
    bed_stay_discharge(encounter=encounter, discharged_by=manager, at=timezone.now() - timedelta(hours=2))
    bed_cleaning_complete(bed=target, completed_by=manager, at=timezone.now() - timedelta(hours=1))

    again = bed_stay_admit(encounter=encounter, bed=target, admitted_by=manager)

    assert BedStay.objects.filter(bed=target).count() == 2
    assert bed_state(bed=target).stay == again


def test_block_and_unblock(ward, manager):
    target = bed(ward, "02")

    bed_block(bed=target, reason="  Mattress replacement ", blocked_by=manager)
    state = bed_state(bed=target)
    assert (state.state, state.block_reason, state.blocked_until) == ("blocked", "Mattress replacement", None)
    with pytest.raises(ValidationError):
        bed_block(bed=target, reason="Again", blocked_by=manager)

    bed_unblock(bed=target, unblocked_by=manager)
    assert bed_state(bed=target).state == "free"
    assert BedBlock.objects.get().period.upper is not None
    with pytest.raises(ValidationError) as caught:
        bed_unblock(bed=target, unblocked_by=manager)
    assert _codes(caught.value, "bed") == ["not_blocked"]


def test_a_planned_block_is_cancelled_by_unblock(ward, manager):
    target = bed(ward, "02")
    bed_block(bed=target, reason="Deep clean", blocked_by=manager, start=timezone.now() + timedelta(days=1))
    assert bed_state(bed=target).state == "free"

    bed_unblock(bed=target, unblocked_by=manager)
    assert not BedBlock.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reason": " "}, "reason"),
        ({"reason": "x", "start": timezone.now() - timedelta(days=1)}, "start"),
        ({"reason": "x", "end": timezone.now() - timedelta(days=1)}, "end"),
    ],
)
def test_bad_blocks_are_refused(ward, manager, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        bed_block(bed=bed(ward, "01"), blocked_by=manager, **kwargs)
    assert field in caught.value.message_dict
    assert not BedBlock.objects.exists()


def test_an_occupied_bed_cannot_be_blocked(ward, manager):
    bed_stay_admit(encounter=make_inpatient(ward), bed=bed(ward, "01"), admitted_by=manager)
    with pytest.raises(ValidationError) as caught:
        bed_block(bed=bed(ward, "01"), reason="Repair", blocked_by=manager)
    assert "bed" in caught.value.message_dict
    assert not BedBlock.objects.exists()


def test_bed_states_in_the_past_follow_the_stays(ward, manager):
    encounter = make_inpatient(ward, days_ago=3)
    target = bed(ward, "01")
    bed_stay_admit(encounter=encounter, bed=target, admitted_by=manager, at=timezone.now() - timedelta(hours=10))
    bed_stay_discharge(encounter=encounter, discharged_by=manager, at=timezone.now() - timedelta(hours=4))
    bed_cleaning_complete(bed=target, completed_by=manager, at=timezone.now() - timedelta(hours=2))

    def state_at(hours_ago: float) -> str:
        return bed_states(wards=[ward], at=timezone.now() - timedelta(hours=hours_ago))[target.pk].state

    assert [state_at(11), state_at(6), state_at(3), state_at(1)] == ["free", "occupied", "cleaning", "free"]


def test_ward_occupancy_counts_each_state_and_leaves_out_inactive_beds(ward, manager):
    make_ward("EMPTY", beds=0)
    inactive = bed(ward, "04")
    inactive.is_active = False
    inactive.save()
    bed_stay_admit(encounter=make_inpatient(ward), bed=bed(ward, "01"), admitted_by=manager)
    bed_cleaning_request(bed=bed(ward, "02"), requested_by=manager)
    bed_block(bed=bed(ward, "03"), reason="Repair", blocked_by=manager)

    occupancy = ward_occupancy()

    by_code = {row.ward.code: row for row in occupancy.values()}
    assert list(by_code) == ["EMPTY", "GM1"]
    assert by_code["GM1"].counts == {"occupied": 1, "free": 0, "cleaning": 1, "blocked": 1}
    assert by_code["GM1"].capacity == 3
    assert by_code["EMPTY"].capacity == 0 and by_code["EMPTY"].occupancy_rate is None


def _ward_with_every_state(code: str, beds: int, manager) -> None:
    ward = make_ward(code, beds=beds)
    all_beds = list(ward.beds.order_by("code"))
    for index, target in enumerate(all_beds):
        kind = index % 4
        if kind == 0:
            bed_stay_admit(
                encounter=make_inpatient(ward), bed=target, admitted_by=manager,
                expected_discharge_on=timezone.localdate(),
            )  # fmt: skip
        elif kind == 1:
            bed_cleaning_request(bed=target, requested_by=manager)
        elif kind == 2:
            bed_block(bed=target, reason="Repair", blocked_by=manager)


@pytest.mark.parametrize("beds", [10, 100])
def test_bed_states_take_the_same_queries_for_10_and_100_beds(django_assert_num_queries, manager, beds):
    _ward_with_every_state(f"Q{beds}", beds, manager)

    with django_assert_num_queries(4):
        states = bed_states()
        # what the bed board shows is loaded already
        shown = [(s.state, s.patient and s.patient.family_name, s.expected_discharge_on, s.bed.ward.code,
                  s.cleaning_since, s.block_reason) for s in states.values()]  # fmt: skip

    assert len(shown) == beds
    assert {s.state for s in states.values()} == {"occupied", "free", "cleaning", "blocked"}

    with django_assert_num_queries(5):
        occupancy = ward_occupancy()
    assert sum(row.capacity for row in occupancy.values()) == beds
