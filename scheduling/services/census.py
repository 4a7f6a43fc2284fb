"""The nightly census snapshot: each ward's flows and midnight occupancy for one day, derived from bed stays.

Bed stays are the one source of truth for occupancy; WardDailyCensus rows are a daily summary of them
(and of imported history from before the system existed). One day is the calendar day in the hospital's
TIME_ZONE, [local midnight, next local midnight).

How each stay counts, so that the stock identity
    occupied(d) = occupied(d-1) + admissions + transfers_in - discharges - transfers_out
holds exactly for every ward and every pair of consecutive days:
- a stay is *occupied at midnight* of day d when it started before the day's end and had not ended before
  it (start < end of day <= end); a stay that ends exactly at midnight still held the bed that day;
- a stay *starting* on d is an admission when it is the encounter's first stay (or follows one that
  ended in discharge or death), otherwise a transfer in;
- a stay *ending* on d counts as a discharge when it ended in discharge or death, as a transfer out when
  it ended in a transfer;
- a move between two beds of the same ward (the next stay starts when this one ends) is neither: the
  ward's count does not change. A move to another ward is a transfer out here and a transfer in there;
- stays "entered in error" never happened and count nowhere.
"""

from datetime import date, datetime, time, timedelta
from functools import partial

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import Bed, BedStay, Ward, WardDailyCensus

# Once a day's rows are committed, the ai app compares each ward's census with its forecast (enqueued by name:
# scheduling never imports ai), on the latency-sensitive "alerts" queue.
CENSUS_CHECK_TASK = "ai.tasks.census_check_task"
ALERTS_QUEUE = "alerts"
COUNT_FIELDS = ("admissions", "discharges", "transfers_in", "transfers_out", "occupied_at_midnight", "capacity")

# One pass over the stays of the encounters that touch the day: LAG/LEAD find each stay's neighbours in its
# encounter (to tell an admission from a transfer, and a transfer from a move within the ward), and FILTERed
# counts give every measure per ward. The range prefilter uses the GiST index of the exclusion constraint;
# the one-second margin keeps stays that ended exactly at the day's start.
_SNAPSHOT_SQL = """
WITH touching AS (
    SELECT DISTINCT encounter_id FROM {stay}
    WHERE period && tstzrange(%(day_start)s - interval '1 second', %(day_end)s, '[]')
      AND end_reason <> %(error)s
),
seq AS (
    SELECT b.ward_id,
           lower(s.period) AS started, upper(s.period) AS ended, s.end_reason,
           LAG(b.ward_id) OVER w AS prev_ward, LAG(upper(s.period)) OVER w AS prev_ended,
           LAG(s.end_reason) OVER w AS prev_reason,
           LEAD(b.ward_id) OVER w AS next_ward, LEAD(lower(s.period)) OVER w AS next_started
    FROM {stay} s JOIN {bed} b ON b.id = s.bed_id
    WHERE s.encounter_id IN (SELECT encounter_id FROM touching) AND s.end_reason <> %(error)s
    WINDOW w AS (PARTITION BY s.encounter_id ORDER BY lower(s.period))
),
flows AS (
    SELECT ward_id,
        COUNT(*) FILTER (
            WHERE started >= %(day_start)s AND started < %(day_end)s
              AND (prev_reason IS NULL OR prev_reason <> %(transfer)s)
        ) AS admissions,
        COUNT(*) FILTER (
            WHERE started >= %(day_start)s AND started < %(day_end)s AND prev_reason = %(transfer)s
              AND NOT (prev_ward = ward_id AND prev_ended = started)
        ) AS transfers_in,
        COUNT(*) FILTER (
            WHERE ended >= %(day_start)s AND ended < %(day_end)s AND end_reason IN (%(discharge)s, %(death)s)
        ) AS discharges,
        COUNT(*) FILTER (
            WHERE ended >= %(day_start)s AND ended < %(day_end)s AND end_reason = %(transfer)s
              AND NOT (next_ward IS NOT NULL AND next_ward = ward_id AND next_started = ended)
        ) AS transfers_out,
        COUNT(*) FILTER (WHERE started < %(day_end)s AND (ended IS NULL OR ended >= %(day_end)s)) AS occupied
    FROM seq GROUP BY ward_id
),
capacity AS (
    SELECT ward_id, COUNT(*) AS beds FROM {bed} WHERE is_active GROUP BY ward_id
)
SELECT w.id, COALESCE(f.admissions, 0), COALESCE(f.discharges, 0), COALESCE(f.transfers_in, 0),
       COALESCE(f.transfers_out, 0), COALESCE(f.occupied, 0), c.beds
FROM {ward} w
JOIN capacity c ON c.ward_id = w.id
LEFT JOIN flows f ON f.ward_id = w.id
ORDER BY w.id
"""


def census_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's start and end (next local midnight) in the hospital's TIME_ZONE, whatever zone is active."""
    zone = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), zone)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), zone)
    return start, end


def census_counts(*, day: date) -> dict[int, dict[str, int]]:
    """Each ward's census measures for `day`, derived from bed stays in one query: {ward id: {field: count}}.

    Wards without active beds are left out (a census row needs a positive capacity). Reads only.
    """
    day_start, day_end = census_day_bounds(day)
    sql = _SNAPSHOT_SQL.format(stay=BedStay._meta.db_table, bed=Bed._meta.db_table, ward=Ward._meta.db_table)
    params: dict[str, datetime | str] = {
        "day_start": day_start,
        "day_end": day_end,
        "error": BedStay.EndReason.ENTERED_IN_ERROR,
        "transfer": BedStay.EndReason.TRANSFER,
        "discharge": BedStay.EndReason.DISCHARGE,
        "death": BedStay.EndReason.DEATH,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: dict(zip(COUNT_FIELDS, row[1:], strict=True)) for row in cursor.fetchall()}


@transaction.atomic
def census_snapshot_take(*, day: date, overwrite: bool = False) -> list[WardDailyCensus]:
    """Write each ward's census row for `day` (a finished day in the hospital's time zone) from its bed stays.

    Guarantees: one row per ward with active beds and day (upserted on the (ward, date) constraint, so
    running it again, or twice at once, changes nothing); counts obey the stock identity described in the
    module docstring. A row that already exists for the day is kept as it is unless `overwrite` is true:
    rows may be imported or demo history from before bed stays were recorded, and the bed stays of those
    days would wrongly replace them with zeros. Pass overwrite=True to recompute a day after stays were
    corrected. Days that have not ended yet are refused (ValidationError on "day").
    Returns the rows stored for the day after the write, in ward order (kept rows included). Once
    committed, each ward's census check against its forecast is enqueued (ai.tasks.census_check_task).
    """
    if day >= timezone.localdate(timezone=timezone.get_default_timezone()):
        raise ValidationError({"day": _("The census of a day is taken once the day is over.")})
    counts = census_counts(day=day)
    rows = [WardDailyCensus(ward_id=ward_id, date=day, **values) for ward_id, values in counts.items()]
    if rows:
        if overwrite:
            WardDailyCensus.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["ward", "date"],
                update_fields=[*COUNT_FIELDS, "updated_at"],
            )
        else:
            WardDailyCensus.objects.bulk_create(rows, ignore_conflicts=True)
    stored = list(
        WardDailyCensus.objects.filter(date=day, ward_id__in=list(counts)).select_related("ward").order_by("ward__code")
    )
    for row in stored:
        # robust: the census is committed by then; a broker that is down must not turn it into an error.
        transaction.on_commit(
            partial(current_app.send_task, CENSUS_CHECK_TASK, args=[row.ward_id, day.isoformat()], queue=ALERTS_QUEUE),
            robust=True,
        )
    return stored
