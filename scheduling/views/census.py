"""The census page: indicators per ward against their targets, occupancy and flow charts, and a CSV export.

The charts are inline SVG drawn from numbers computed here (as the chart's vitals graph is), so the page
needs no chart library and no JavaScript and scales to a tablet's width.
"""

import csv
from collections import defaultdict
from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from hospital.core.services.access_log import access_log_record
from scheduling.models import Ward
from scheduling.selectors.census import Indicators, census_can_view, census_daily, ward_indicators

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366  # the demo's history, and the longest range whose charts stay readable
WEEKLY_BARS_AFTER = 120  # longer ranges draw flows per week: daily bars would be thinner than a pixel

WIDTH = 800
LEFT = 48
RIGHT = 12
TOP = 14
PLOT_HEIGHT = 220
X_AXIS = 30
# Distinct in hue and lightness; wards beyond the palette repeat it dashed.
PALETTE = ("#1f5fa8", "#c0392b", "#1e7f4f", "#b86100", "#7b3fa0", "#0f7c8c", "#8a6d00", "#b03a75", "#4d5b6a")
ADMISSION_COLOR = "#1f5fa8"
DISCHARGE_COLOR = "#b86100"


def _yesterday() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=1)


class CensusFilterForm(forms.Form):
    wards = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Wards"),
        queryset=Ward.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: all wards."),
    )
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        end = cleaned.get("end") or _yesterday()
        start = cleaned.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        cleaned["start"], cleaned["end"] = start, end
        return cleaned


def _nice_top(value: float, steps: int = 4) -> tuple[float, float]:
    """A round top for an axis from 0 showing `value`, and its gridline step."""
    raw = max(value, 1) / steps
    magnitude = 10 ** (len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * steps, step


def _x_axis(days: list[date], x_of) -> list[dict]:
    count = min(len(days), 6)
    ticks = []
    for index in range(count):
        position = round(index * (len(days) - 1) / max(count - 1, 1))
        day = days[position]
        anchor = "start" if index == 0 else "end" if index == count - 1 and count > 1 else "middle"
        ticks.append({"x": x_of(position), "label": date_format(day, "Y-m-d"), "anchor": anchor})
    return ticks


def occupancy_chart(rows, start: date, end: date) -> dict | None:
    """Daily occupancy (%) of each ward as lines over the range; None when there are no census rows."""
    by_ward: dict[Ward, dict[date, float]] = defaultdict(dict)
    for row in rows:
        by_ward[row.ward][row.date] = 100 * row.occupied_at_midnight / row.capacity
    if not by_ward:
        return None
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    plot_width = WIDTH - LEFT - RIGHT
    top_value, step = _nice_top(max(100.0, *(v for values in by_ward.values() for v in values.values())), 5)
    if top_value < 100:
        top_value, step = 100.0, 20.0
    bottom = TOP + PLOT_HEIGHT

    def x_of(index: int) -> float:
        return round(LEFT + plot_width * index / max(len(days) - 1, 1), 1)

    def y_of(value: float) -> float:
        return round(bottom - value / top_value * PLOT_HEIGHT, 1)

    lines = []
    for n, (ward, values) in enumerate(sorted(by_ward.items(), key=lambda item: item[0].code)):
        # A missing day breaks the line rather than drawing a slope across the gap.
        segments, current = [], []
        for index, day in enumerate(days):
            if day in values:
                current.append(f"{x_of(index)},{y_of(values[day])}")
            elif current:
                segments.append(" ".join(current))
                current = []
        if current:
            segments.append(" ".join(current))
        mean = sum(values.values()) / len(values)
        lines.append(
            {
                "label": ward.code,
                "title": f"{ward.code} {ward.name_en}",
                "color": PALETTE[n % len(PALETTE)],
                "dash": "" if n < len(PALETTE) else "6 4",
                "segments": segments,
                "mean": round(mean, 1),
            }
        )
    yticks = []
    tick = 0.0
    while tick <= top_value + 1e-9:
        yticks.append({"y": y_of(tick), "label": f"{tick:g}%"})
        tick += step
    return {
        "width": WIDTH,
        "height": bottom + X_AXIS,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": bottom,
        "label_y": bottom + 20,
        "yticks": yticks,
        "full_y": y_of(100),
        "xticks": _x_axis(days, x_of),
        "lines": lines,
    }


def flow_chart(rows, start: date, end: date) -> dict | None:
    """Admissions (up) and discharges (down) of the selected wards together, per day or per week for long ranges."""
    weekly = (end - start).days + 1 > WEEKLY_BARS_AFTER
    size = 7 if weekly else 1
    buckets = [start + timedelta(days=n) for n in range(0, (end - start).days + 1, size)]
    admissions = [0] * len(buckets)
    discharges = [0] * len(buckets)
    seen = False
    for row in rows:
        index = (row.date - start).days // size
        admissions[index] += row.admissions
        discharges[index] += row.discharges
        seen = True
    if not seen:
        return None
    top_value, step = _nice_top(max(max(admissions), max(discharges)), 3)
    half = PLOT_HEIGHT / 2
    middle = TOP + half
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / len(buckets)
    bar = max(round(slot * 0.8, 2), 0.5)

    def x_of(index: int) -> float:
        return round(LEFT + slot * index + slot / 2, 1)

    def height(value: float) -> float:
        return round(value / top_value * half, 1)

    bars = []
    for index, bucket in enumerate(buckets):
        label = date_format(bucket, "Y-m-d")
        x = round(x_of(index) - bar / 2, 2)
        if admissions[index]:
            h = height(admissions[index])
            bars.append(
                {"x": x, "y": round(middle - h, 1), "h": h, "color": ADMISSION_COLOR, "kind": "admissions",
                 "title": _("%(day)s: %(count)s admissions") % {"day": label, "count": admissions[index]}}
            )  # fmt: skip
        if discharges[index]:
            h = height(discharges[index])
            bars.append(
                {"x": x, "y": middle, "h": h, "color": DISCHARGE_COLOR, "kind": "discharges",
                 "title": _("%(day)s: %(count)s discharges") % {"day": label, "count": discharges[index]}}
            )  # fmt: skip
    yticks = []
    tick = 0.0
    while tick <= top_value + 1e-9:
        yticks.append({"y": round(middle - height(tick), 1), "label": f"{tick:g}"})
        if tick:
            yticks.append({"y": round(middle + height(tick), 1), "label": f"{tick:g}"})
        tick += step
    bottom = TOP + PLOT_HEIGHT
    return {
        "width": WIDTH,
        "height": bottom + X_AXIS,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": bottom,
        "middle": middle,
        "label_y": bottom + 20,
        "bar_width": bar,
        "bars": bars,
        "yticks": yticks,
        "xticks": _x_axis(buckets, x_of),
        "weekly": weekly,
        "admissions": sum(admissions),
        "discharges": sum(discharges),
    }


def _filters(request) -> tuple[CensusFilterForm, list[Ward] | None, date, date]:
    if not census_can_view(request.user):
        raise PermissionDenied
    form = CensusFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return form, list(data["wards"]) or None, data["start"], data["end"]
    end = _yesterday()
    return form, None, end - timedelta(days=DEFAULT_DAYS - 1), end


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def _decimal(value: float | None, places: int = 1) -> str:
    return "" if value is None else f"{value:.{places}f}"


@login_required
@require_GET
def census_page(request):
    """Indicators per ward for the chosen wards and days (default: all wards, the last 90 days) and two charts."""
    form, wards, start, end = _filters(request)
    if form.is_bound and not form.is_valid():
        return render(request, "scheduling/census.html", {"form": form, "indicators": None}, status=400)
    indicators = ward_indicators(wards=wards, start=start, end=end)
    rows = list(census_daily(wards=wards, start=start, end=end))
    return render(
        request,
        "scheduling/census.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "indicators": indicators,
            "occupancy": occupancy_chart(rows, start, end),
            "flows": flow_chart(rows, start, end),
            "export_query": request.GET.urlencode(),
        },
    )


CSV_HEADER = (
    "ward", "ward_name", "start", "end", "census_days", "occupancy_rate_percent", "average_length_of_stay_days",
    "length_of_stay_encounters", "bed_turnover", "turnaround_median_minutes", "turnaround_p90_minutes",
    "turnaround_target_minutes", "turnaround_within_target_percent", "cleanings", "admissions", "discharges",
)  # fmt: skip


def _csv_rows(indicators: Indicators):
    for item in [*indicators.wards, indicators.total]:
        yield (
            item.ward.code if item.ward else "TOTAL",
            item.ward.name_en if item.ward else "",
            indicators.start.isoformat(),
            indicators.end.isoformat(),
            item.days,
            _percent(item.occupancy_rate),
            _decimal(item.average_length_of_stay, 2),
            item.length_of_stay_count,
            _decimal(item.bed_turnover, 2),
            _decimal(item.turnaround_median_minutes),
            _decimal(item.turnaround_p90_minutes),
            item.turnaround_target_minutes if item.turnaround_target_minutes is not None else "",
            _percent(item.turnaround_within_target),
            item.turnaround_count,
            item.admissions,
            item.discharges,
        )


@login_required
@require_GET
def census_export(request):
    """The indicator table as CSV, with the page's filters; logged as an export (it holds no patient data)."""
    form, wards, start, end = _filters(request)
    if form.is_bound and not form.is_valid():
        return HttpResponse(" ".join(form.non_field_errors()) or _("Invalid filters."), status=400)
    indicators = ward_indicators(wards=wards, start=start, end=end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="census-{start.isoformat()}-{end.isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_rows(indicators))
    with transaction.atomic():
        access_log_record(
            actor=request.user,
            action="export",
            object_type="scheduling.census",
            detail={
                "start": start.isoformat(),
                "end": end.isoformat(),
                "wards": [item.ward.code for item in indicators.wards],
                "format": "csv",
            },
        )
    return response


urlpatterns = [
    path("beds/census/", census_page, name="census"),
    path("beds/census/export.csv", census_export, name="census_export"),
]
