"""The admin base for records that are written only through services (which validate and keep the access log)."""

from django.contrib import admin


class ViewOnlyAdmin(admin.ModelAdmin):
    """Lists and shows rows; offers no add, change or delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
