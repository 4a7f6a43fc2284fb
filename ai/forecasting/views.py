"""Forecasting pages: the model in use and its backtest, a ward's forecast chart, the bed plan, the bed board's
figures, and running the nightly job on demand.

The ward chart is drawn by plotly.js, which the installed plotly package carries: `plotly_js` serves that file
(compressed once per process, cached by the browser), so nothing third-party is committed.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ai.forecasting.models import ForecastRun
from ai.forecasting.selectors import (
    bed_plan,
    board_outlook,
    forecast_overview,
    may_manage,
    model_label,
    run_list,
    ward_forecast_chart,
)
from ai.forecasting.services import forecast_run_request

POLL_SECONDS = 3
BOARD_DAYS = 3


def _running(runs: list[ForecastRun]) -> bool:
    return any(run.status in (ForecastRun.Status.QUEUED, ForecastRun.Status.RUNNING) for run in runs)


@login_required
@require_GET
def forecast_overview_page(request):
    """The model that serves and why, its backtest per model at 1, 7 and 14 days, the recent runs (live while
    one runs) and the wards' forecasts; managers only (PermissionDenied otherwise)."""
    overview = forecast_overview(fetched_by=request.user)
    _run, outlook = board_outlook(fetched_by=request.user, days=1)
    context = {
        "overview": overview,
        "serving_label": model_label(overview.serving.model_name) if overview.serving else "",
        "outlook": outlook,
        "running": _running(overview.runs),
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "forecasting/overview.html", context)


@login_required
@require_GET
def forecast_runs_fragment(request):
    """The runs table alone, for the overview's htmx refresh while a run is queued or running."""
    runs = run_list(fetched_by=request.user)
    return render(
        request,
        "forecasting/runs.html",
        {"runs": runs, "running": _running(runs), "poll_seconds": POLL_SECONDS},
    )


@login_required
@require_POST
def forecast_run_submit(request):
    """Queue tonight's job now (managers only); a night that already ran is not run again."""
    if not may_manage(request.user):
        raise PermissionDenied(_("Only bed managers and administrators can run the forecast."))
    run, queued = forecast_run_request(requested_by=request.user)
    night = date_format(run.night, "SHORT_DATE_FORMAT")
    if queued:
        messages.success(request, _("The forecast of %(night)s is queued; progress shows below.") % {"night": night})
    elif run.status == ForecastRun.Status.SUCCEEDED:
        messages.info(request, _("The forecast of %(night)s has already run; it is not run twice.") % {"night": night})
    else:
        messages.info(request, _("The forecast of %(night)s is already queued or running.") % {"night": night})
    return redirect("forecasting:overview")


@login_required
@require_GET
def ward_forecast_page(request, external_id):
    """A ward's forecast chart (mean, 80 % and 95 % intervals, capacity) with its last eight weeks of census, for
    managers and the ward's doctors and nurses (404 for another ward, PermissionDenied for other roles)."""
    chart = ward_forecast_chart(fetched_by=request.user, ward_external_id=external_id)
    context = {
        "chart": chart,
        "model_label": model_label(chart.forecasts[0].model_name) if chart.forecasts else "",
        "plot_labels": {
            "actual": _("Census at midnight"),
            "mean": _("Expected"),
            "interval80": _("%(level)s%% interval") % {"level": 80},
            "interval95": _("%(level)s%% interval") % {"level": 95},
            "capacity": _("Beds"),
            "yaxis": _("Patients at midnight"),
        },
    }
    return render(request, "forecasting/ward.html", context)


@login_required
@require_GET
def bed_plan_page(request):
    """The bed plan for the next days: where the overflow should go and which flexible beds to open, each
    recommendation explained with its numbers (managers only)."""
    plan = bed_plan(fetched_by=request.user)
    return render(request, "forecasting/plan.html", {"plan": plan, "percent": f"{plan.quantile * 100:g}"})


@login_required
@require_GET
def board_forecast_fragment(request):
    """The bed board's forecast strip: expected census and upper bound for the next days of each ward the user
    may see (loaded by htmx; empty for roles without forecasts)."""
    try:
        run, outlook = board_outlook(fetched_by=request.user, days=BOARD_DAYS)
    except PermissionDenied:
        return HttpResponse("")
    return render(
        request,
        "forecasting/board_forecast.html",
        {"run": run, "outlook": outlook, "manager": may_manage(request.user)},
    )


@lru_cache(maxsize=1)
def _plotly_bundle() -> tuple[bytes, bytes, str]:
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    raw = path.read_bytes()
    etag = f'"plotly-{plotly.__version__}-{hashlib.sha256(raw).hexdigest()[:12]}"'
    return raw, gzip.compress(raw, compresslevel=6), etag


@require_GET
def plotly_js(request):
    """plotly.min.js from the installed plotly package, gzip-compressed when the browser accepts it and cached
    for a day (revalidated by ETag)."""
    raw, compressed, etag = _plotly_bundle()
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(compressed if use_gzip else raw, content_type="text/javascript; charset=utf-8")
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=86400"
    return response
