"""Sign-in, sign-out, the TOTP second factor, and what a locked account sees."""

import math
from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import segno
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from hospital.core.forms import OtpTokenForm, SignInForm
from hospital.core.language import language_cookie_set
from hospital.core.selectors.authentication import user_has_otp_device, user_otp_devices, user_otp_required
from hospital.core.services.authentication import totp_device_confirm, totp_device_start


def _safe_next(request) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    allowed_hosts = {request.get_host()}
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts=allowed_hosts, require_https=request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _url_with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


class LoginView(auth_views.LoginView):
    """Username and password; then the second factor for those who have or need one; then the user's language."""

    template_name = "core/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        next_url = self.get_success_url()
        if user_has_otp_device(user=user):
            response = redirect(_url_with_next("core:otp_verify", next_url))
        elif user_otp_required(user=user):
            response = redirect(_url_with_next("core:otp_setup", next_url))
        return language_cookie_set(response, user.preferred_language)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["idle_timeout_minutes"] = settings.SESSION_IDLE_TIMEOUT_MINUTES
        # django-axes counted this failure on the request; tell the person how close the lockout is.
        failures = getattr(self.request, "axes_failures_since_start", None)
        if failures and self.request.method == "POST":
            context["attempts_left"] = max(get_failure_limit(self.request, None) - failures, 0)
        return context


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only) and return to the sign-in page."""

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            messages.success(request, _("You have signed out."))
        return response


def _cooloff_minutes(request) -> int | None:
    cool_off = get_cool_off(request)
    return math.ceil(cool_off.total_seconds() / 60) if cool_off else None


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a sign-in on a locked account (AXES_LOCKOUT_CALLABLE).

    Pages get the locked-out page; the API gets its common error format with code "locked_out".
    """
    minutes = _cooloff_minutes(request)
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        if minutes:
            message = ngettext(
                "Too many failed sign-in attempts: the account is locked for %(minutes)d minute.",
                "Too many failed sign-in attempts: the account is locked for %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        else:
            message = _("Too many failed sign-in attempts: the account is locked until an administrator unlocks it.")
        response = JsonResponse({"error": {"code": "locked_out", "message": message, "fields": {}}}, status=status)
    else:
        context = {
            "cooloff_minutes": minutes,
            "failure_limit": get_failure_limit(request, credentials),
            "username": get_client_username(request, credentials) or "",
        }
        response = render(request, "core/locked_out.html", context, status=status)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def _verify_token(user, devices, token: str):
    """The device that accepts the token, or None and when the next try is allowed if every device is throttled."""
    retry_at = None
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            locked_until = (info or {}).get("locked_until")
            retry_at = min(filter(None, [retry_at, locked_until]), default=None)
            continue
        verified = django_otp.verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified, None
        retry_at = None
    return None, retry_at


@never_cache
@login_required
def otp_verify(request):
    """Ask for the authenticator code; a correct one marks the session as verified (the admin requires that)."""
    next_url = _safe_next(request)
    devices = user_otp_devices(user=request.user)
    if not devices:
        return redirect(_url_with_next("core:otp_setup", next_url))
    if request.user.is_verified():
        return redirect(next_url)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, retry_at = _verify_token(request.user, devices, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(next_url)
        if retry_at is not None:
            seconds = max(math.ceil((retry_at - timezone.now()).total_seconds()), 1)
            form.add_error(
                "token",
                ngettext(
                    "Too many wrong codes. Wait %(seconds)d second and try again.",
                    "Too many wrong codes. Wait %(seconds)d seconds and try again.",
                    seconds,
                )
                % {"seconds": seconds},
            )
        else:
            form.add_error("token", _("That code is not right. Check the time on your phone and try the newest code."))
    return render(request, "core/otp_verify.html", {"form": form, "next": next_url}, status=200)


@never_cache
@login_required
def otp_setup(request):
    """Set up an authenticator app: scan the QR code (or type the secret), then confirm with a code it shows."""
    next_url = _safe_next(request)
    has_device = user_has_otp_device(user=request.user)
    if has_device and not request.user.is_verified():
        # Knowing the password alone must not be enough to add an authenticator to an account that has one.
        return redirect(_url_with_next("core:otp_verify", request.get_full_path()))
    device = totp_device_start(user=request.user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp_device_confirm(device=device, token=form.cleaned_data["token"]):
            device.refresh_from_db()
            django_otp.login(request, device)
            messages.success(request, _("Two-step sign-in is set up. You will be asked for a code when you sign in."))
            return redirect(next_url)
        form.add_error("token", _("That code is not right. Scan the QR code again and enter the newest code."))
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": next_url,
        "replacing": has_device,
        "required": user_otp_required(user=request.user),
        # Rendered here as an inline SVG data URI: the secret never leaves the server for a QR service.
        "qr_data_uri": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "issuer": settings.OTP_TOTP_ISSUER,
        "account": request.user.get_username(),
    }
    return render(request, "core/otp_setup.html", context)
