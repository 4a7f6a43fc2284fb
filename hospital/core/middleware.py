"""Middleware of the core app."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from hospital.core.request_context import RequestContext, reset_request_context, set_request_context


def _client_ip(request) -> str | None:
    # Behind the nginx of docker-compose the real client is the first X-Forwarded-For hop.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.PRODUCTION else ""
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Makes the client address, user agent and a request id available to the access log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = RequestContext(
            ip_address=_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
            request_id=request.META.get("HTTP_X_REQUEST_ID", "")[:64] or RequestContext().request_id,
            channel="api" if request.path.startswith("/api/") else "web",
        )
        token = set_request_context(context)
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = context.request_id
        return response


class AdminOTPRequiredMiddleware:
    """Staff must have passed a TOTP second factor before any admin page opens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.OTP_REQUIRED_FOR_ADMINS
            and request.path.startswith("/admin/")
            and request.user.is_authenticated
            and request.user.is_staff
            and not request.user.is_verified()
        ):
            return redirect(f"{reverse('core:otp_verify')}?next={request.path}")
        return self.get_response(request)
