"""Reading the access log: for auditors and administrators only."""

import uuid
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from hospital.core import roles
from hospital.core.models import AccessLog, User


def access_log_can_view(user) -> bool:
    """Whether `user` may read the access log (auditor, administrator or superuser)."""
    return bool(user and user.is_authenticated and user.has_role(roles.AUDITOR, roles.ADMINISTRATOR))


def access_log_list(
    *,
    fetched_by: User,
    patient_external_id: uuid.UUID | str | None = None,
    actor: User | str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AccessLog]:
    """Access log entries, newest first, filtered; raises PermissionDenied unless `fetched_by` may read the log.

    `actor` is a User (matched by id) or a username (matched case-insensitively against the username
    recorded at the time, so entries of a deleted or renamed account are still found). `since` is
    inclusive, `until` exclusive. Reading the log is not itself logged: the log holds accesses to
    patient data, and logging its own reads would add an entry for every page an auditor opens.
    """
    if not access_log_can_view(fetched_by):
        raise PermissionDenied
    entries = AccessLog.objects.order_by("-occurred_at", "-id")
    if patient_external_id:
        entries = entries.filter(patient_external_id=patient_external_id)
    if isinstance(actor, User):
        entries = entries.filter(actor_id=actor.pk)
    elif actor:
        entries = entries.filter(actor_username__iexact=actor)
    if action:
        entries = entries.filter(action=action)
    if since is not None:
        entries = entries.filter(occurred_at__gte=since)
    if until is not None:
        entries = entries.filter(occurred_at__lt=until)
    return entries
