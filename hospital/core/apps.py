from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "hospital.core"
    label = "core"
    verbose_name = _("Hospital core")

    def ready(self) -> None:
        from hospital.core import admin_site, roles

        # Permissions of apps migrated later are attached to the roles as they appear.
        post_migrate.connect(roles.roles_sync_after_migrate, dispatch_uid="core.roles_sync")
        admin_site.admin_site_install()
