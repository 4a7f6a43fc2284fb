"""Census alerts: a ward's midnight census outside the 95 % interval of its bed-demand forecast.

The scheduling app enqueues ai.tasks.census_check_task by name for each ward once the day's census snapshot
is written. The forecast comes from ai.forecasting.selectors.forecast_interval, imported when the check runs,
so that the alerts work (and raise nothing) on an installation without forecasts.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from ai.models import Alert
from ai.services.raising import alert_raise
from scheduling.models import WardDailyCensus

ABOVE = "above"
BELOW = "below"


def _forecast_interval(*, ward_id: int, day: date) -> tuple[Any, Any, Any] | None:
    try:
        from ai.forecasting.selectors import forecast_interval
    except ImportError:
        return None
    return forecast_interval(ward_id=ward_id, day=day)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"the forecast interval holds a value that is not a number: {value!r}") from exc


def _text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')).normalize():f}"


@transaction.atomic
def census_check(*, ward_id: int, day: date) -> Alert | None:
    """Compare the midnight census of ward `ward_id` on `day` with the forecast's 95 % interval for that day.

    Guarantees: no alert when the ward has no census row for the day, when there is no forecast (the
    interval function returns None or the forecasting app is not installed), or when the census lies
    within [q025, q975] (the ends included). Above the interval a high alert, below it a medium one,
    for the ward (no patient), naming the census, the forecast mean and the interval. Idempotent (the
    census row is the alert's source); a ward outside its interval on several days in a row keeps one
    alert per direction while it is active, with one occurrence per day (ai.services.raising).
    """
    row = WardDailyCensus.objects.select_related("ward").filter(ward_id=ward_id, date=day).first()
    if row is None:
        return None
    interval = _forecast_interval(ward_id=ward_id, day=day)
    if interval is None:
        return None
    mean, low, high = (_decimal(value) for value in interval)
    census = Decimal(row.occupied_at_midnight)
    if low <= census <= high:
        return None
    direction = ABOVE if census > high else BELOW
    ward = row.ward
    detail = {
        "ward": ward.code,
        "ward_name_en": ward.name_en,
        "ward_name_zh": ward.name_zh,
        "day": day.isoformat(),
        "census": row.occupied_at_midnight,
        "capacity": row.capacity,
        "mean": _text(mean),
        "q025": _text(low),
        "q975": _text(high),
        "direction": direction,
    }
    midnight = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    raised = alert_raise(
        kind=Alert.Kind.CENSUS,
        dedup_key=f"census:ward:{ward_id}:{direction}",
        source_id=row.external_id,
        severity=Alert.Severity.HIGH if direction == ABOVE else Alert.Severity.MEDIUM,
        detail=detail,
        ward_id=ward_id,
        seen_at=min(midnight, timezone.now()),
    )
    return raised.alert
