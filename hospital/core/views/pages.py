"""Home page and the health endpoint."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from hospital.core.health import health_report


@never_cache
def healthz(request):
    """JSON readiness report; 503 when the database, Redis, a worker or migrations are not right."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@login_required
def home(request):
    return render(request, "core/home.html")
