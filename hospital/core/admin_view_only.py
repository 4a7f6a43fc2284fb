"""The admin base for records that are written only through services (which validate and keep the access log)."""

from django.contrib import admin


class ViewOnlyPermissions:
    """No add, change or delete: for model admins and inlines alike."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ViewOnlyAdmin(ViewOnlyPermissions, admin.ModelAdmin):
    """Lists and shows rows; offers no add, change or delete."""
