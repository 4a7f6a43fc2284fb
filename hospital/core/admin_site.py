"""The admin signs in through the platform's own sign-in page, so the lockout and the second factor apply to it."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse


def admin_login(request, extra_context=None):
    """Replaces the admin's own login form: one sign-in page for the whole platform."""
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect("admin:index")
        # Sending a signed-in non-administrator back to the sign-in page would loop; say no instead.
        raise PermissionDenied
    return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index"))


def admin_site_install() -> None:
    # Replaced on the one default site instance rather than by subclassing AdminSite, so every app's
    # admin.site.register keeps working unchanged.
    admin.site.login = admin_login  # type: ignore[method-assign]
