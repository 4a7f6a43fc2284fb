"""Routes of the account API, included under /api/v1/core/."""

from django.urls import path

from hospital.core import apis_account

urlpatterns = [
    path("me/preferences/", apis_account.PreferencesApi.as_view(), name="core-me-preferences"),
    path("auth/token/", apis_account.ApiTokenObtainApi.as_view(), name="core-auth-token"),
]
