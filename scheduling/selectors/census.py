"""Reads of the ward census and the bed indicators: occupancy, length of stay, turnover, turnaround.

Occupancy and flows come from WardDailyCensus (so imported and demo history show alongside snapshots);
length of stay and turnaround come from bed stays and cleanings, the records they are measured on.
The census holds no patient data; who may read it is `census_can_view`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import Avg, Count, FloatField, QuerySet, Sum
from django.db.models.functions import Cast

from hospital.core import roles
from scheduling.models import Bed, BedCleaning, BedStay, Ward, WardDailyCensus
from scheduling.services.census import census_day_bounds


def census_can_view(user) -> bool:
    """Bed managers, administrators and finance officers, and anyone who may view census rows (clinicians)."""
    if not user.is_authenticated:
        return False
    return user.has_role(roles.BED_MANAGER, roles.ADMINISTRATOR, roles.FINANCE_OFFICER) or user.has_perm(
        "scheduling.view_warddailycensus"
    )


def census_daily(*, wards: Iterable[Ward] | None = None, start: date, end: date) -> QuerySet[WardDailyCensus]:
    """Daily census rows from `start` to `end` inclusive, by ward code then date, with the ward loaded."""
    rows = WardDailyCensus.objects.filter(date__range=(start, end)).select_related("ward")
    if wards is not None:
        rows = rows.filter(ward__in=[ward.pk for ward in wards])
    return rows.order_by("ward__code", "date")


@dataclass(frozen=True)
class WardIndicators:
    """One ward's indicators over a window (ward None: the selected wards together)."""

    ward: Ward | None
    days: int  # census days in the window
    occupancy_rate: float | None  # mean of occupied at midnight / capacity
    average_length_of_stay: float | None  # days, per encounter discharged in the window
    length_of_stay_count: int  # encounters the average is over
    bed_turnover: float | None  # discharges per bed in the window
    turnaround_median_minutes: float | None
    turnaround_p90_minutes: float | None
    turnaround_count: int  # cleanings completed in the window
    turnaround_within_target: float | None  # share of those cleanings done within the ward's target
    turnaround_target_minutes: int | None  # None for the total: wards have their own targets
    admissions: int
    discharges: int

    @property
    def turnaround_exceeds_target(self) -> bool:
        return (
            self.turnaround_target_minutes is not None
            and self.turnaround_median_minutes is not None
            and self.turnaround_median_minutes > self.turnaround_target_minutes
        )


@dataclass(frozen=True)
class Indicators:
    start: date
    end: date
    wards: list[WardIndicators]
    total: WardIndicators


# Length of stay by encounter: from its first bed stay's start to the end of the stay that discharged it
# (discharge or death) within the window, attributed to the discharging ward.
_LOS_SQL = """
SELECT b.ward_id, COUNT(*),
       SUM(EXTRACT(EPOCH FROM upper(s.period) - (
           SELECT MIN(lower(f.period)) FROM {stay} f WHERE f.encounter_id = s.encounter_id AND f.end_reason <> %(error)s
       )))
FROM {stay} s JOIN {bed} b ON b.id = s.bed_id
WHERE s.end_reason IN (%(discharge)s, %(death)s)
  AND upper(s.period) >= %(start)s AND upper(s.period) < %(end)s
  AND b.ward_id = ANY(%(wards)s)
GROUP BY b.ward_id
"""

# Turnaround of cleanings completed in the window, per ward and for all selected wards (the empty grouping set).
_TURNAROUND_SQL = """
SELECT b.ward_id, COUNT(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM c.completed_at - c.requested_at) / 60),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM c.completed_at - c.requested_at) / 60),
       COUNT(*) FILTER (WHERE c.completed_at - c.requested_at <= make_interval(mins => w.turnaround_target_minutes))
FROM {cleaning} c JOIN {bed} b ON b.id = c.bed_id JOIN {ward} w ON w.id = b.ward_id
WHERE c.completed_at >= %(start)s AND c.completed_at < %(end)s AND b.ward_id = ANY(%(wards)s)
GROUP BY GROUPING SETS ((b.ward_id), ())
"""


def _ratio(numerator, denominator) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


def ward_indicators(*, wards: Iterable[Ward] | None = None, start: date, end: date) -> Indicators:
    """Indicators per ward (in ward code order) and in total, from `start` to `end` inclusive (local days).

    - occupancy_rate: mean over census days of occupied at midnight / capacity; the total weighs days
      by capacity (occupied bed-days / available bed-days);
    - average_length_of_stay: days from an encounter's first bed stay to the end of its stay that ended in
      discharge or death within the window, by the discharging ward;
    - bed_turnover: discharges in the census over the ward's mean capacity in the window;
    - turnaround: median and 90th percentile minutes from a cleaning's request to its completion, for
      cleanings completed in the window, against the ward's turnaround target;
    - admissions, discharges: sums of the census rows.
    Four queries whatever the number of wards or days.
    """
    ward_list = list(Ward.objects.order_by("code")) if wards is None else sorted(wards, key=lambda w: w.code)
    ward_ids = [ward.pk for ward in ward_list]
    window_start, _unused = census_day_bounds(start)
    _unused, window_end = census_day_bounds(end)

    census = {
        row["ward"]: row
        for row in WardDailyCensus.objects.filter(ward__in=ward_ids, date__range=(start, end))
        .values("ward")
        .annotate(
            rate=Avg(Cast("occupied_at_midnight", FloatField()) / Cast("capacity", FloatField())),
            occupied_sum=Sum("occupied_at_midnight"),
            capacity_sum=Sum("capacity"),
            mean_capacity=Avg("capacity"),
            admissions_sum=Sum("admissions"),
            discharges_sum=Sum("discharges"),
            days=Count("id"),
        )
        .order_by()
    }
    params: dict[str, datetime | str | list[int]] = {
        "start": window_start,
        "end": window_end,
        "wards": ward_ids,
        "error": BedStay.EndReason.ENTERED_IN_ERROR,
        "discharge": BedStay.EndReason.DISCHARGE,
        "death": BedStay.EndReason.DEATH,
    }
    tables = {
        "stay": BedStay._meta.db_table,
        "bed": Bed._meta.db_table,
        "ward": Ward._meta.db_table,
        "cleaning": BedCleaning._meta.db_table,
    }
    with connection.cursor() as cursor:
        cursor.execute(_LOS_SQL.format(**tables), params)
        los = {ward_id: (count, seconds) for ward_id, count, seconds in cursor.fetchall()}
        cursor.execute(_TURNAROUND_SQL.format(**tables), params)
        turnaround = {ward_id: rest for ward_id, *rest in cursor.fetchall()}

    def build(ward: Ward | None, census_row: dict | None, los_row, turnaround_row, rate) -> WardIndicators:
        census_row = census_row or {}
        los_count, los_seconds = los_row or (0, None)
        count, median, p90, within = turnaround_row or (0, None, None, 0)
        return WardIndicators(
            ward=ward,
            days=census_row.get("days") or 0,
            occupancy_rate=rate,
            average_length_of_stay=_ratio(los_seconds, los_count * 86400) if los_count else None,
            length_of_stay_count=los_count,
            bed_turnover=_ratio(census_row.get("discharges_sum") or 0, census_row.get("mean_capacity")),
            turnaround_median_minutes=float(median) if median is not None else None,
            turnaround_p90_minutes=float(p90) if p90 is not None else None,
            turnaround_count=count,
            turnaround_within_target=_ratio(within, count),
            turnaround_target_minutes=ward.turnaround_target_minutes if ward is not None else None,
            admissions=census_row.get("admissions_sum") or 0,
            discharges=census_row.get("discharges_sum") or 0,
        )

    per_ward = [
        build(ward, census.get(ward.pk), los.get(ward.pk), turnaround.get(ward.pk), census.get(ward.pk, {}).get("rate"))
        for ward in ward_list
    ]
    rows = census.values()
    total_census = {
        "days": max((row["days"] for row in rows), default=0),
        "admissions_sum": sum(row["admissions_sum"] for row in rows),
        "discharges_sum": sum(row["discharges_sum"] for row in rows),
        "mean_capacity": sum(row["mean_capacity"] for row in rows),
    }
    total_los = (sum(c for c, _s in los.values()), sum(float(s) for _c, s in los.values()))
    total = build(
        None,
        total_census,
        total_los if total_los[0] else None,
        turnaround.get(None),
        _ratio(sum(row["occupied_sum"] for row in rows), sum(row["capacity_sum"] for row in rows)),
    )
    return Indicators(start=start, end=end, wards=per_ward, total=total)
