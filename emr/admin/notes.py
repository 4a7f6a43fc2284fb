"""Admin for the notes part of the record: clinical notes and observations, view-only.

Notes and observations are written through emr.services (which validate, lock and keep the access log
complete); a signed note cannot change at all, so the admin offers no change, add or delete.
"""

from django.contrib import admin

from emr.models import ClinicalNote, NoteDiagnosis, NoteFieldProvenance, Observation
from hospital.core.admin_view_only import ViewOnlyPermissions


class ReadOnlyMixin(ViewOnlyPermissions):
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class NoteDiagnosisInline(ReadOnlyMixin, admin.TabularInline):
    model = NoteDiagnosis
    fields = ("rank", "icd10", "certainty")
    extra = 0


class NoteFieldProvenanceInline(ReadOnlyMixin, admin.TabularInline):
    model = NoteFieldProvenance
    fields = ("field_name", "source", "model_name", "model_version", "confidence", "span_start", "span_end")
    extra = 0


@admin.register(ClinicalNote)
class ClinicalNoteAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("external_id", "patient", "note_type", "status", "version", "author", "signed_at", "created_at")
    list_filter = ("status", "note_type")
    list_select_related = ("patient", "author")
    search_fields = ("=external_id", "=thread", "=patient__mrn")
    date_hierarchy = "created_at"
    inlines = [NoteDiagnosisInline, NoteFieldProvenanceInline]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # The search vector is internal to the database's full-text search.
        return [name for name in super().get_readonly_fields(request, obj) if name != "search_vector"]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)


@admin.register(Observation)
class ObservationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("patient", "category", "code", "value_numeric", "value_text", "unit", "flag", "effective_at")
    list_filter = ("category", "flag", "source")
    list_select_related = ("patient",)
    search_fields = ("=patient__mrn", "=code", "=set_id")
    date_hierarchy = "effective_at"
    show_full_result_count = False
