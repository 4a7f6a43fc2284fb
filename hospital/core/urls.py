from django.urls import path

from hospital.core.views import audit, auth, pages

app_name = "core"

urlpatterns = [
    path("", pages.home, name="home"),
    path("status/", pages.system_status, name="system_status"),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth.LogoutView.as_view(), name="logout"),
    path("accounts/otp/", auth.otp_verify, name="otp_verify"),
    path("accounts/otp/setup/", auth.otp_setup, name="otp_setup"),
    path("audit/access-log/", audit.access_log_page, name="access_log"),
]
