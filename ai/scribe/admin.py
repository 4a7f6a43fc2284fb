"""Admin of the scribe: jobs for operations (status, failures, models, timings, attempts), view-only.

Jobs are written by the services and the worker; the admin is for finding a stuck or failed job. It shows no
transcript or suggested text: clinical content is read on the clinician's pages, where reads are logged.
"""

from django.contrib import admin

from ai.scribe.models import ScribeJob
from hospital.core.admin_view_only import ViewOnlyAdmin

OPERATIONAL_FIELDS = (
    "external_id",
    "created_at",
    "clinician",
    "source",
    "language",
    "status",
    "progress",
    "failure_code",
    "failure_reason",
    "attempt",
    "task_id",
    "started_at",
    "heartbeat_at",
    "finished_at",
    "audio_sha256",
    "audio_bytes",
    "audio_content_type",
    "audio_duration_s",
    "audio_deleted_at",
    "asr_model_name",
    "asr_model_version",
    "extraction_models",
    "summary_model",
    "timings",
)


@admin.register(ScribeJob)
class ScribeJobAdmin(ViewOnlyAdmin):
    list_display = ("created_at", "status", "progress", "failure_code", "source", "language", "clinician", "attempt")
    list_filter = ("status", "source", "language", "failure_code")
    list_select_related = ("clinician",)
    search_fields = ("external_id", "task_id", "clinician__username")
    date_hierarchy = "created_at"
    fields = OPERATIONAL_FIELDS
    readonly_fields = OPERATIONAL_FIELDS
