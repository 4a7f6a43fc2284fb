from django.urls import path

from emr import apis

urlpatterns = [
    path("patients/", apis.PatientCreateApi.as_view(), name="emr-patient-list"),
    path("patients/<uuid:external_id>/", apis.PatientDetailApi.as_view(), name="emr-patient-detail"),
]
