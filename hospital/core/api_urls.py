from django.urls import include, path

from hospital.core import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="core-me"),
    path("access-log/", apis.AccessLogListApi.as_view(), name="core-access-log"),
    path("", include("hospital.core.urls_api_account")),
]
