"""The chart's vital-signs graph, drawn on the server as inline SVG (no chart library, works without JavaScript).

Four panels share one time axis, so values with different units never share a y scale: heart rate with
blood pressure, SpO2, respiratory rate, temperature. The view passes the result of `vitals_chart` to
emr/includes/vitals_chart.html, which only places the numbers computed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    # django-stubs-ext is a development dependency; the name is only needed by the type checker.
    from django_stubs_ext import StrOrPromise

WIDTH = 800
LEFT = 56  # room for the y labels
RIGHT = 16
PANEL_HEIGHT = 120
PANEL_GAP = 34  # room for the panel title
TOP = 30
X_AXIS = 34  # room for the time labels


@dataclass(frozen=True)
class SeriesStyle:
    code: str
    label: StrOrPromise
    color: str
    dash: str = ""


@dataclass(frozen=True)
class PanelSpec:
    title: StrOrPromise
    series: tuple[SeriesStyle, ...]
    low: float  # the default range; readings outside it widen it
    high: float
    step: float


# Colours differ in hue and lightness and the dashed line differs in shape, so the legend still works
# for colour-blind readers and on a grey-scale print.
PANELS = (
    PanelSpec(
        _("Heart rate (/min) and blood pressure (mmHg)"),
        (
            SeriesStyle("heart_rate", _("Heart rate"), "#c0392b"),
            SeriesStyle("systolic_bp", _("Systolic BP"), "#1f5fa8"),
            SeriesStyle("diastolic_bp", _("Diastolic BP"), "#1f5fa8", "6 4"),
        ),
        40,
        180,
        20,
    ),
    PanelSpec(_("SpO2 (%)"), (SeriesStyle("spo2", _("SpO2"), "#7b3fa0"),), 85, 100, 5),
    PanelSpec(
        _("Respiratory rate (/min)"), (SeriesStyle("respiratory_rate", _("Respiratory rate"), "#1e7f4f"),), 8, 32, 8
    ),
    PanelSpec(_("Temperature (°C)"), (SeriesStyle("temperature", _("Temperature"), "#b86100"),), 35, 40, 1),
)


@dataclass
class Panel:
    title: str
    top: float
    bottom: float
    yticks: list[tuple[float, str]] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)


def _range(values: list[float], spec: PanelSpec) -> tuple[float, float]:
    low, high = spec.low, spec.high
    if values:
        low = min(low, min(values))
        high = max(high, max(values))
    # Round outwards to whole steps so the gridlines fall on readable numbers.
    low = spec.step * (low // spec.step)
    high = spec.step * -(-high // spec.step)
    return low, high


def _number(value: float) -> str:
    return f"{value:g}"


def vitals_chart(readings: Iterable[tuple[str, datetime, Decimal | None]]) -> dict | None:
    """Geometry of the graph for (code, taken at, value) readings; None when there is nothing to draw."""
    by_code: dict[str, list[tuple[datetime, float]]] = {}
    for code, taken_at, value in readings:
        if value is None:
            continue
        by_code.setdefault(code, []).append((taken_at, float(value)))
    times = [taken_at for points in by_code.values() for taken_at, _value in points]
    if not times:
        return None
    for points in by_code.values():
        points.sort()
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1.0
    plot_width = WIDTH - LEFT - RIGHT

    def x_of(taken_at: datetime) -> float:
        if start == end:
            return LEFT + plot_width / 2
        return round(LEFT + plot_width * (taken_at - start).total_seconds() / span, 1)

    panels = []
    top = TOP
    for spec in PANELS:
        values = [value for style in spec.series for _t, value in by_code.get(style.code, [])]
        low, high = _range(values, spec)
        bottom = top + PANEL_HEIGHT

        def y_of(value: float, top=top, bottom=bottom, low=low, high=high) -> float:
            return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

        panel = Panel(title=str(spec.title), top=top, bottom=bottom)
        tick = low
        while tick <= high + 1e-9:
            panel.yticks.append((y_of(tick), _number(tick)))
            tick += spec.step
        # Too many gridlines crowd a panel: keep every other one.
        if len(panel.yticks) > 7:
            panel.yticks = panel.yticks[::2]
        for style in spec.series:
            points = by_code.get(style.code, [])
            if not points:
                continue
            coords = [(x_of(taken_at), y_of(value), taken_at, value) for taken_at, value in points]
            panel.lines.append(
                {
                    "label": style.label,
                    "color": style.color,
                    "dash": style.dash,
                    "points": " ".join(f"{x},{y}" for x, y, _t, _v in coords),
                    # Rendered here rather than in a template loop: hundreds of readings would dominate the page
                    # time. Coordinates are numbers and colours constants; only the tooltip text is escaped.
                    "dots": mark_safe(  # noqa: S308 - every interpolated text is escaped
                        "".join(
                            f'<circle cx="{x}" cy="{y}" r="3.5" fill="{style.color}"><title>'
                            f"{escape(style.label)} {_number(value)} · "
                            f"{timezone.localtime(taken_at):%Y-%m-%d %H:%M}</title></circle>"
                            for x, y, taken_at, value in coords
                        )
                    ),
                }
            )
        panels.append(panel)
        top = bottom + PANEL_GAP

    height = top - PANEL_GAP + X_AXIS
    xticks = []
    count = 1 if start == end else 5
    for index in range(count):
        moment = start + (end - start) * (index / max(count - 1, 1)) if count > 1 else start
        local = timezone.localtime(moment)
        label = date_format(local, "m-d H:i") if span < 3 * 86400 else date_format(local, "Y-m-d")
        # The end labels align inwards so they never run off the drawing.
        anchor = "middle" if count == 1 else "start" if index == 0 else "end" if index == count - 1 else "middle"
        xticks.append({"x": x_of(moment), "label": label, "anchor": anchor})
    legend = [
        {"label": style.label, "color": style.color, "dash": style.dash}
        for spec in PANELS
        for style in spec.series
        if by_code.get(style.code)
    ]
    return {
        "width": WIDTH,
        "height": height,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "panels": panels,
        "xticks": xticks,
        "axis_y": height - X_AXIS,
        "label_y": height - X_AXIS + 20,
        "legend": legend,
        "readings": len(times),
        "start": start,
        "end": end,
    }
