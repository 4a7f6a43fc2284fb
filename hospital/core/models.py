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


# Languages a user may choose for the pages; each shown in its own language.
PREFERRED_LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]


class User(AbstractUser):
    """A person or system that signs in. Roles are Django groups (see hospital.core.roles)."""

    external_id = models.UUIDField(_("external id"), default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, blank=True, choices=PREFERRED_LANGUAGES
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


class AccessLog(models.Model):
    """One access to patient data: who read, wrote, exported or printed what, when, from where and why.

    Append-only and hash-chained. The database refuses UPDATE, DELETE and TRUNCATE on this table
    (triggers of migration 0004); `row_hash` is a SHA-256 over the row's logged fields including
    `prev_hash`, the previous row's `row_hash`, so `manage.py audit_verify` finds a row that was
    altered or removed by someone able to switch the triggers off. Rows are only written by
    hospital.core.services.access_log.access_log_record.

    The actor is a foreign key without a database constraint (DO_NOTHING, db_constraint=False) plus a
    username snapshot: deleting or renaming a user must neither be blocked by years of log rows
    (PROTECT / a real constraint) nor rewrite them (SET_NULL and CASCADE are an UPDATE / DELETE the
    triggers refuse). The id and the snapshot are both hashed, so who acted stays provable after the
    account is gone. `patient_external_id` is a plain UUID because the core app does not import emr.
    """

    class ActorKind(models.TextChoices):
        USER = "user", _("User")
        INTEGRATION = "integration", _("Integration")
        TASK = "task", _("Background task")
        SYSTEM = "system", _("System")

    class Action(models.TextChoices):
        READ = "read", _("Read")
        SEARCH = "search", _("Search")
        CREATE = "create", _("Create")
        WRITE = "write", _("Write")
        DELETE = "delete", _("Delete")
        EXPORT = "export", _("Export")
        PRINT = "print", _("Print")
        SIGN = "sign", _("Sign")
        LOGIN = "login", _("Sign-in")
        LOGOUT = "logout", _("Sign-out")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        BREAK_GLASS = "break_glass", _("Break the glass")

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        TASK = "task", _("Background task")
        COMMAND = "command", _("Command")
        SYSTEM = "system", _("System")

    id = models.BigAutoField(primary_key=True)
    external_id = models.UUIDField(_("external id"), default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the (actor, occurred_at) index serves lookups by actor
        related_name="+",
    )
    actor_username = models.CharField(_("actor username"), max_length=150, blank=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, help_text=_('For example "emr.patient".'))
    object_id = models.CharField(_("object id"), max_length=100, blank=True)
    patient_external_id = models.UUIDField(_("patient"), null=True, blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    row_hash = models.CharField(_("row hash"), max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            models.Index(fields=["patient_external_id", "occurred_at"], name="core_accesslog_patient_idx"),
            models.Index(fields=["actor", "occurred_at"], name="core_accesslog_actor_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(prev_hash__regex=r"^[0-9a-f]{64}$") & models.Q(row_hash__regex=r"^[0-9a-f]{64}$"),
                name="core_accesslog_hashes_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.actor_username or self.actor_kind} {self.action} {self.object_type} {self.object_id}"
