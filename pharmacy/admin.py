"""Admin of the formulary, for pharmacists and administrators (their roles hold pharmacy.* permissions)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from pharmacy.models import Drug
from pharmacy.selectors import drug_list
from pharmacy.services import drug_active_set


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = [
        "generic_name_en",
        "generic_name_zh",
        "strength",
        "form",
        "route",
        "atc_code",
        "high_alert",
        "is_active",
    ]
    list_filter = ["form", "high_alert", "is_active", "route"]
    # The search box uses the formulary search (names in both languages, synonyms, misspellings), plus ATC codes.
    search_fields = ["generic_name_en", "generic_name_zh", "atc_code", "synonyms"]
    search_help_text = _("English or Chinese name, brand name or abbreviation, or ATC code.")
    readonly_fields = ["external_id", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["generic_name_en", "generic_name_zh", "synonyms"]}),
        (_("Product"), {"fields": ["form", "strength", "route", "atc_code"]}),
        (_("Status"), {"fields": ["high_alert", "is_active"]}),
        (_("Record"), {"fields": ["external_id", "created_at", "updated_at"]}),
    ]
    actions = ["retire", "reinstate"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        matching = drug_list(query=term, active_only=False).values("pk")
        return queryset.filter(pk__in=matching) | queryset.filter(atc_code__istartswith=term), False

    @admin.action(description=_("Retire the selected drugs (no longer prescribable)"), permissions=["change"])
    def retire(self, request, queryset):
        count = drug_active_set(drug_ids=queryset.values_list("pk", flat=True), is_active=False)
        self.message_user(
            request, ngettext("%(count)d drug retired.", "%(count)d drugs retired.", count) % {"count": count},
            messages.SUCCESS,
        )  # fmt: skip

    @admin.action(description=_("Reinstate the selected drugs"), permissions=["change"])
    def reinstate(self, request, queryset):
        count = drug_active_set(drug_ids=queryset.values_list("pk", flat=True), is_active=True)
        self.message_user(
            request, ngettext("%(count)d drug reinstated.", "%(count)d drugs reinstated.", count) % {"count": count},
            messages.SUCCESS,
        )  # fmt: skip
