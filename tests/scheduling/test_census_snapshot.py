"""The daily census snapshot: counts derived from bed stays, the stock identity, idempotence, kept history."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from scheduling.models import WardDailyCensus
from scheduling.services.census import census_snapshot_take
from tests.scheduling.census_support import at, bed, make_encounter, make_ward, stay

pytestmark = pytest.mark.django_db

D1 = date(2025, 3, 10)
D2 = D1 + timedelta(days=1)
D3 = D1 + timedelta(days=2)
D0 = D1 - timedelta(days=1)


def _row(ward, day):
    return WardDailyCensus.objects.get(ward=ward, date=day)


def _counts(row):
    return (row.admissions, row.transfers_in, row.discharges, row.transfers_out, row.occupied_at_midnight)


@pytest.fixture
def hospital():
    """Two wards and a few days of stays: admissions, a transfer between wards, a move within a ward,
    a discharge, a death, a stay across midnight and one entered in error."""
    a = make_ward("A", beds=4, inactive=1)
    b = make_ward("B", beds=2)
    # Admitted on D0, still there: occupies A/01 across every midnight.
    long_stay = make_encounter(at(D0, 9), a)
    stay(long_stay, bed(a, "01"), at(D0, 9))
    # Admitted to A on D1, transferred to B on D2, discharged from B on D3.
    moved = make_encounter(at(D1, 10), a)
    stay(moved, bed(a, "02"), at(D1, 10), at(D2, 14), "transfer")
    stay(moved, bed(b, "01"), at(D2, 14), at(D3, 11), "discharge")
    # Admitted to A on D1 at 23:00 (across midnight), moved to another bed of A on D2, died on D2.
    inside = make_encounter(at(D1, 23), a)
    stay(inside, bed(a, "03"), at(D1, 23), at(D2, 8), "transfer")
    stay(inside, bed(a, "04"), at(D2, 8), at(D2, 20), "death")
    # Admitted and discharged on D1 in B.
    day_case = make_encounter(at(D1, 7), b)
    stay(day_case, bed(b, "02"), at(D1, 7), at(D1, 17), "discharge")
    # A stay recorded in error counts nowhere.
    wrong = make_encounter(at(D1, 12), b)
    stay(wrong, bed(b, "02"), at(D1, 18), at(D1, 19), "entered_in_error")
    return a, b


def test_counts_follow_the_stays_of_each_day(hospital):
    a, b = hospital

    for day in (D0, D1, D2, D3):
        census_snapshot_take(day=day)

    # admissions, transfers in, discharges (with deaths), transfers out, occupied at midnight
    assert _counts(_row(a, D0)) == (1, 0, 0, 0, 1)
    assert _counts(_row(a, D1)) == (2, 0, 0, 0, 3)
    # The move between two beds of A is no transfer; the move to B is one; the death is a discharge.
    assert _counts(_row(a, D2)) == (0, 0, 1, 1, 1)
    assert _counts(_row(a, D3)) == (0, 0, 0, 0, 1)
    assert _counts(_row(b, D1)) == (1, 0, 1, 0, 0)
    assert _counts(_row(b, D2)) == (0, 1, 0, 0, 1)
    assert _counts(_row(b, D3)) == (0, 0, 1, 0, 0)
    # Capacity is the active beds: A has a fifth, inactive bed.
    assert _row(a, D1).capacity == 4 and _row(b, D1).capacity == 2


def test_stock_identity_holds_for_consecutive_days(hospital):
    for day in (D0, D1, D2, D3):
        census_snapshot_take(day=day)

    rows = list(WardDailyCensus.objects.order_by("ward_id", "date"))
    pairs = [(before, after) for before, after in zip(rows, rows[1:], strict=False) if before.ward_id == after.ward_id]
    assert len(pairs) == 6
    for before, after in pairs:
        expected = (
            before.occupied_at_midnight + after.admissions + after.transfers_in - after.discharges - after.transfers_out
        )
        assert after.occupied_at_midnight == expected, (after.ward_id, after.date)


def test_a_stay_ending_exactly_at_midnight_held_the_bed_that_day():
    ward = make_ward("M", beds=1)
    encounter = make_encounter(at(D1, 10), ward)
    stay(encounter, bed(ward, "01"), at(D1, 10), at(D2, 0), "discharge")

    census_snapshot_take(day=D1)
    census_snapshot_take(day=D2)

    assert _counts(_row(ward, D1)) == (1, 0, 0, 0, 1)
    assert _counts(_row(ward, D2)) == (0, 0, 1, 0, 0)


def test_days_are_counted_in_the_hospital_time_zone(settings):
    # 23:30 in Shanghai is 15:30 UTC on the same day, and 00:30 is the previous day in UTC.
    assert settings.TIME_ZONE == "Asia/Shanghai"
    ward = make_ward("Z", beds=2)
    late = make_encounter(at(D1, 23, 30), ward)
    stay(late, bed(ward, "01"), at(D1, 23, 30))
    early = make_encounter(at(D2, 0, 30), ward)
    stay(early, bed(ward, "02"), at(D2, 0, 30))

    with timezone.override("UTC"):
        census_snapshot_take(day=D1)
        census_snapshot_take(day=D2)

    assert (_row(ward, D1).admissions, _row(ward, D1).occupied_at_midnight) == (1, 1)
    assert (_row(ward, D2).admissions, _row(ward, D2).occupied_at_midnight) == (1, 2)


def test_taking_a_day_twice_changes_nothing(hospital):
    first = census_snapshot_take(day=D2)
    before = list(WardDailyCensus.objects.order_by("id").values())

    second = census_snapshot_take(day=D2)

    assert [r.pk for r in first] == [r.pk for r in second]
    assert list(WardDailyCensus.objects.order_by("id").values()) == before
    assert WardDailyCensus.objects.count() == 2


def test_existing_history_is_kept_unless_overwrite_is_asked(hospital):
    a, b = hospital
    imported = WardDailyCensus.objects.create(
        ward=a, date=D2, admissions=9, discharges=8, transfers_in=0, transfers_out=0, occupied_at_midnight=3, capacity=4
    )

    rows = census_snapshot_take(day=D2)

    imported.refresh_from_db()
    assert _counts(imported) == (9, 0, 8, 0, 3)
    assert {row.ward.code: _counts(row) for row in rows} == {"A": (9, 0, 8, 0, 3), "B": (0, 1, 0, 0, 1)}

    census_snapshot_take(day=D2, overwrite=True)

    imported.refresh_from_db()
    assert _counts(imported) == (0, 0, 1, 1, 1)
    assert WardDailyCensus.objects.filter(date=D2).count() == 2


def test_a_day_that_is_not_over_is_refused():
    make_ward("T", beds=1)
    today = timezone.localdate()

    with pytest.raises(ValidationError) as excinfo:
        census_snapshot_take(day=today)

    assert "day" in excinfo.value.message_dict
    assert not WardDailyCensus.objects.exists()


def test_wards_without_active_beds_get_no_row():
    make_ward("C", beds=0, inactive=2)

    assert census_snapshot_take(day=D1) == []
    assert not WardDailyCensus.objects.exists()


def test_snapshot_takes_a_fixed_number_of_queries(hospital, django_assert_num_queries):
    # savepoint, the aggregate, the insert, reading back the rows, release
    with django_assert_num_queries(5):
        census_snapshot_take(day=D2)


def test_management_command_takes_the_day_and_overwrites_when_asked(hospital, capsys):
    a, _b = hospital
    WardDailyCensus.objects.create(ward=a, date=D2, occupied_at_midnight=7, capacity=4)

    call_command("census_snapshot", "--date", D2.isoformat())
    assert _row(a, D2).occupied_at_midnight == 7
    call_command("census_snapshot", "--date", D2.isoformat(), "--overwrite")
    assert _row(a, D2).occupied_at_midnight == 1

    out = capsys.readouterr().out
    assert f"Census of {D2.isoformat()}: 2 ward rows." in out
    with pytest.raises(CommandError):
        call_command("census_snapshot", "--date", timezone.localdate().isoformat())
