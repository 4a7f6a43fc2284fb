"""What the wards know ahead, by day: planned discharges, booked elective admissions, closed beds.

Counts only, no patient data: forecasting reads them as features known in advance and for the bed plan.
Days are calendar days in the hospital's TIME_ZONE. Each selector is one query whatever the range.
"""

from collections import defaultdict
from datetime import date

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from scheduling.models import Bed, BedRequest, BedStay

# A stay's planned discharge counts on day d when the patient was still in the bed at the start of d:
# for past days that is the plan as it stood that morning, for coming days the open stays' plans.
_PLANNED_SQL = """
SELECT b.ward_id, s.expected_discharge_on, COUNT(*)
FROM {stay} s JOIN {bed} b ON b.id = s.bed_id
WHERE s.expected_discharge_on BETWEEN %(start)s AND %(end)s
  AND s.end_reason <> %(error)s
  AND lower(s.period) < (s.expected_discharge_on::timestamp AT TIME ZONE %(zone)s)
  AND (upper(s.period) IS NULL OR upper(s.period) >= (s.expected_discharge_on::timestamp AT TIME ZONE %(zone)s))
GROUP BY b.ward_id, s.expected_discharge_on
"""


def planned_discharges_by_day(*, start: date, end: date) -> dict[int, dict[date, int]]:
    """{ward id: {day: stays expected to be discharged that day}} from `start` to `end` inclusive."""
    sql = _PLANNED_SQL.format(stay=BedStay._meta.db_table, bed=Bed._meta.db_table)
    params: dict[str, date | str] = {
        "start": start,
        "end": end,
        "error": BedStay.EndReason.ENTERED_IN_ERROR,
        "zone": timezone.get_default_timezone_name(),
    }
    result: dict[int, dict[date, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for ward_id, day, count in cursor.fetchall():
            result[ward_id][day] = count
    return dict(result)


def booked_admissions_by_day(*, start: date, end: date) -> dict[str, dict[date, int]]:
    """{specialty: {day: elective bed requests needed that day}} (cancelled requests left out).

    Requests name a specialty, not a ward: the caller shares them among that specialty's wards.
    """
    zone = timezone.get_default_timezone()
    rows = (
        BedRequest.objects.filter(source=BedRequest.Source.ELECTIVE)
        .exclude(status=BedRequest.Status.CANCELLED)
        .annotate(day=TruncDate("needed_from", tzinfo=zone))
        .filter(day__range=(start, end))
        .values("specialty", "day")
        .annotate(count=Count("id"))
        .order_by()
    )
    result: dict[str, dict[date, int]] = defaultdict(dict)
    for row in rows:
        result[row["specialty"]][row["day"]] = row["count"]
    return dict(result)


def stays_recorded_since() -> date | None:
    """The first day (local) a bed stay was recorded on, or None before any: known-ahead counts start there."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(lower(period)) FROM {BedStay._meta.db_table} WHERE end_reason <> %s",  # noqa: S608
            [BedStay.EndReason.ENTERED_IN_ERROR],
        )
        (first,) = cursor.fetchone()
    return timezone.localdate(first, timezone=timezone.get_default_timezone()) if first else None


def closed_beds_by_ward() -> dict[int, int]:
    """{ward id: inactive beds}: beds a ward could open when it needs more room."""
    rows = Bed.objects.filter(is_active=False).values("ward").annotate(count=Count("id")).order_by()
    return {row["ward"]: row["count"] for row in rows}
