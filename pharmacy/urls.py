"""URLs of the pharmacy API, mounted at /api/v1/pharmacy/."""

from django.urls import path

from pharmacy import apis

urlpatterns = [
    path("drugs/", apis.DrugListApi.as_view(), name="pharmacy-drug-list"),
    path("drugs/<uuid:external_id>/", apis.DrugDetailApi.as_view(), name="pharmacy-drug-detail"),
]
