from django.urls import path

from hospital.core import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="core-me"),
]
