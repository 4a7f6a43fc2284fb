"""Home page, the system-status card and the health endpoint."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hospital.core import roles
from hospital.core.health import health_report, health_report_recent
from hospital.core.navigation import navigation_for
from hospital.core.services.preferences import user_preferences_update

CHECK_LABELS = {
    "database": _("Database"),
    "redis": _("Redis (cache and task queue)"),
    "worker": _("Background worker"),
    "migrations": _("Database migrations"),
}


@never_cache
def healthz(request):
    """JSON readiness report; 503 when the database, Redis, a worker or migrations are not right."""
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@login_required
def home(request):
    match = request.resolver_match
    destinations = [
        item
        for item in navigation_for(request.user, view_name=match.view_name if match else None, path=request.path)
        if item["url_name"] != "core:home"
    ]
    return render(request, "core/home.html", {"destinations": destinations})


@never_cache
@login_required
def system_status(request):
    """The status card's body for htmx (refreshed every 30 s); a whole page when opened directly."""
    # Many open home pages must not each ping the workers: a report a few seconds old is good enough here.
    report = health_report_recent()
    # Failure details name hosts and exceptions: only administrators see them.
    show_details = request.user.is_staff or request.user.has_role(roles.ADMINISTRATOR)
    checks = [
        {
            "name": name,
            "label": CHECK_LABELS.get(name, name),
            "ok": check["ok"],
            "ms": check.get("ms"),
            "detail": check.get("detail") if show_details else "",
        }
        for name, check in report["checks"].items()
    ]
    template = "core/includes/system_status.html" if request.htmx else "core/includes/system_status_page.html"
    return render(request, template, {"status_ok": report["ok"], "checks": checks})


@require_POST
def set_language(request):
    """The language switch: Django's set_language, and for a signed-in user the choice becomes their preference."""
    response = i18n.set_language(request)
    language = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_preferences_update(user=request.user, preferred_language=language)
    return response
