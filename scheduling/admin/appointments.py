"""Admin for clinic slots and appointments.

Both are view-only here: slots and bookings change only through the appointment services, which lock the
slot, keep one live booking per slot (a booked slot cannot be blocked), start the encounter when a patient
is seen and log the access.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hospital.core.admin_view_only import ViewOnlyAdmin
from scheduling.models import Appointment, AppointmentSlot


@admin.register(AppointmentSlot)
class AppointmentSlotAdmin(ViewOnlyAdmin):
    list_display = ("clinician", "start", "end", "department", "location", "is_blocked")
    list_filter = ("is_blocked", "department")
    search_fields = ("clinician__username", "clinician__display_name", "location")
    list_select_related = ("clinician", "department")
    fields = ("clinician", "department", "period", "location", "is_blocked", "external_id", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description=_("start"), ordering="period")
    def start(self, slot):
        return slot.period.lower

    @admin.display(description=_("end"))
    def end(self, slot):
        return slot.period.upper


@admin.register(Appointment)
class AppointmentAdmin(ViewOnlyAdmin):
    list_display = ("patient", "slot", "status", "booked_by", "checked_in_at", "seen_at")
    list_filter = ("status",)
    search_fields = ("patient__mrn", "slot__clinician__username")
    list_select_related = ("patient", "slot__clinician", "booked_by")
    raw_id_fields = ("slot", "patient", "booked_by", "rescheduled_from", "encounter")
