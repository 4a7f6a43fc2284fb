"""Sign-in, sign-out and the TOTP second factor."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def otp_verify(request):
    return HttpResponse(status=501)


@login_required
def otp_setup(request):
    return HttpResponse(status=501)
