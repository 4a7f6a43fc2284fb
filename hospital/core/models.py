"""Cross-cutting models: the shared abstract base and the custom user."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Abstract base of every domain model.

    The bigint primary key stays internal; `external_id` is what URLs, APIs and FHIR ids expose.
    """

    external_id = models.UUIDField(_("external id"), default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["id"]


class User(AbstractUser):
    """A person or system that signs in. Roles are Django groups (see hospital.core.roles)."""

    external_id = models.UUIDField(_("external id"), default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, blank=True, choices=[("en", "English"), ("zh-hans", "简体中文")]
    )
    is_integration_client = models.BooleanField(
        _("integration client"), default=False, help_text=_("A system (HIS, LIS, PACS) that uses the API with a token.")
    )

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def role_names(self) -> set[str]:
        # Cached per instance: navigation asks several times per page.
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, *names: str) -> bool:
        return self.is_superuser or bool(self.role_names.intersection(names))
