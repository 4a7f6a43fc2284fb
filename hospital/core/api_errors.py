"""One error format for the whole API: {"error": {"code", "message", "fields"}}."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = [_flatten(item) for item in detail]
        return flat
    return str(detail)


def exception_handler(exc, context):
    """Map every API exception to the common error body; Django's ValidationError becomes a 400."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # Keep a stated reason and its code (e.g. how to break the glass); a bare one gets DRF's default text.
        exc = exceptions.PermissionDenied(detail=str(exc) or None, code=getattr(exc, "code", None))

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {
            "code": "invalid",
            "message": _("The request has invalid fields."),
            "fields": _flatten(detail),
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "message": _flatten(detail) if not isinstance(detail, dict) else _("Request failed."),
            "fields": _flatten(detail) if isinstance(detail, dict) else {},
        }
    response.data = {"error": body}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "Retry-After" not in response:
        response["Retry-After"] = "60"
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    """The 404 of a URL no view matched: the common error body under /api/, the normal page elsewhere."""
    if _is_api(request):
        body = {"code": "not_found", "message": _("No API endpoint at this address."), "fields": {}}
        return JsonResponse({"error": body}, status=404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    """An unexpected failure: the common error body under /api/ (no traceback), the normal page elsewhere."""
    if _is_api(request):
        body = {"code": "server_error", "message": _("The server failed to handle the request."), "fields": {}}
        return JsonResponse({"error": body}, status=500)
    return defaults.server_error(request)
