"""Pages of the core app: home, sign-in, second factor, health."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
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


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


@login_required
def otp_verify(request):
    return HttpResponse(status=501)


@login_required
def otp_setup(request):
    return HttpResponse(status=501)


@login_required
def access_log_page(request):
    return HttpResponse(status=501)
