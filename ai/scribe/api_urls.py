"""The scribe's REST API, mounted at /api/v1/scribe/."""

from django.urls import path

from ai.scribe import apis

app_name = "scribe-api"

urlpatterns = [
    path("jobs/", apis.JobListCreateApi.as_view(), name="job-list"),
    path("jobs/<uuid:external_id>/", apis.JobDetailApi.as_view(), name="job-detail"),
    path(
        "jobs/<uuid:external_id>/suggestions/<uuid:suggestion_id>/decision/",
        apis.SuggestionDecisionApi.as_view(),
        name="suggestion-decision",
    ),
    path("jobs/<uuid:external_id>/fill-note/", apis.FillNoteApi.as_view(), name="fill-note"),
]
