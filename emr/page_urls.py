"""Clinician pages of the EMR (patients, charts, notes), mounted at /patients/."""

from django.urls import path

from emr.views import access, chart, notes, patients, vitals

app_name = "emr"

urlpatterns = [
    path("", patients.patient_search, name="patient_search"),
    path("new/", patients.patient_register, name="patient_register"),
    path("icd10/", notes.icd10_picker, name="icd10_picker"),
    path("notes/search/", notes.note_search, name="note_search"),
    path("notes/<uuid:external_id>/", notes.note_detail, name="note_detail"),
    path("notes/<uuid:external_id>/edit/", notes.note_edit, name="note_edit"),
    path("notes/<uuid:external_id>/sign/", notes.note_sign, name="note_sign"),
    path("notes/<uuid:external_id>/amend/", notes.note_amend, name="note_amend"),
    path("notes/<uuid:external_id>/print/", notes.note_print, name="note_print"),
    path("<uuid:external_id>/", chart.patient_chart_page, name="patient_chart"),
    path("<uuid:external_id>/break-glass/", access.break_glass, name="break_glass"),
    path("<uuid:external_id>/print/", chart.patient_print, name="patient_print"),
    path("<uuid:external_id>/vitals/new/", vitals.vitals_new, name="vitals_new"),
    path("<uuid:external_id>/notes/new/", notes.note_new, name="note_new"),
]
