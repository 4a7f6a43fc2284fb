"""The EMR's REST API: each area's module declares its own urlpatterns."""

from django.urls import path

from emr.apis import clinical, encounters, notes, patients

urlpatterns = [
    path("patients/", patients.PatientListCreateApi.as_view(), name="emr-patient-list"),
    path("patients/<uuid:external_id>/", patients.PatientDetailApi.as_view(), name="emr-patient-detail"),
    *patients.urlpatterns,
    *clinical.urlpatterns,
    *encounters.urlpatterns,
    *notes.urlpatterns,
]
