"""Writing and verifying the access log (who read, wrote, exported or printed what patient data).

The one call to make from a view, an API or a Celery task is `access_log_record`:

    access_log_record(actor=request.user, action=AccessLog.Action.READ, object_type="emr.patient",
                      object_id=str(patient.external_id), patient_external_id=patient.external_id)

In a request the client address, user agent, request id and channel come from the request context
that RequestContextMiddleware sets. A Celery task passes the user it acts for (or None) and
`context=RequestContext(channel="task", request_id=<the enqueuing request's id>)`.
"""

import hashlib
import ipaddress
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hospital.core.models import AccessLog, User
from hospital.core.request_context import RequestContext, current_request_context

GENESIS_HASH = "0" * 64
# Fixed key of the advisory lock that serialises appends: one writer at a time extends the chain.
CHAIN_LOCK_KEY = 0x61636365_73736C67  # "accesslg"

# The fields a row's hash covers, in no particular order (the serialisation sorts them).
HASHED_FIELDS = (
    "id",
    "external_id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_kind",
    "action",
    "object_type",
    "object_id",
    "patient_external_id",
    "purpose",
    "ip_address",
    "user_agent",
    "request_id",
    "channel",
    "detail",
    "prev_hash",
)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def access_log_hash(fields: dict[str, Any]) -> str:
    """SHA-256 (hex) of a row's logged fields: sorted-key compact JSON, UUIDs as strings, times in UTC ISO 8601."""
    payload = {name: _canonical_value(fields[name]) for name in HASHED_FIELDS}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise_ip(value: str | None) -> str | None:
    # Stored as inet; the hashed text must be what PostgreSQL gives back, so keep one canonical spelling.
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.compressed


def _detail_json(detail: dict | None) -> str:
    if not detail:
        return "{}"
    if not isinstance(detail, dict):
        raise ValidationError({"detail": _("The detail of an access log entry must be a JSON object.")})
    try:
        return json.dumps(detail, cls=DjangoJSONEncoder, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"detail": _("The detail of an access log entry must be plain JSON.")}) from exc


def _actor_fields(actor: User | None, channel: str) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        kind = AccessLog.ActorKind.TASK if channel == AccessLog.Channel.TASK else AccessLog.ActorKind.SYSTEM
        return {"actor_id": None, "actor_username": "", "actor_kind": kind}
    kind = AccessLog.ActorKind.INTEGRATION if actor.is_integration_client else AccessLog.ActorKind.USER
    return {"actor_id": actor.pk, "actor_username": actor.get_username(), "actor_kind": kind}


def _clip(value: str | None, field_name: str) -> str:
    field = AccessLog._meta.get_field(field_name)
    assert isinstance(field, models.Field)  # callers name AccessLog's own text columns
    return (value or "")[: field.max_length]


@transaction.atomic
def access_log_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str = "",
    patient_external_id: uuid.UUID | str | None = None,
    purpose: str = "",
    detail: dict | None = None,
    context: RequestContext | None = None,
) -> AccessLog:
    """Append one entry to the access log and return it.

    `actor` is the signed-in user (an AnonymousUser or None records the system, or a task when the
    context's channel is "task"). `object_type` is the model label ("emr.patient"), `object_id` its
    external id; `patient_external_id` is the patient whose data was touched; `purpose` is the stated
    reason (required for break-the-glass); `detail` a small JSON object (e.g. the fields read).
    Address, user agent, request id and channel come from `context`, else from the current request.

    Guarantees: the entry is chained to the one before it (prev_hash = its row_hash) and no two
    writers ever fork the chain: appends are serialised by a transaction-scoped advisory lock, taken
    before the previous hash is read. The entry is written in the caller's transaction when there is
    one, so it commits or rolls back together with the caller's work: a committed write always has
    its log entry and a rolled-back write leaves none. The price is that the chain lock is held until
    the caller's transaction ends, so inside a service call this last, after the work is done.
    Views and APIs run in autocommit (no ATOMIC_REQUESTS), so a read is committed to the log at once,
    before the response is rendered, and stays logged even if the request fails afterwards.
    Needs READ COMMITTED (Django's default): the previous row is read after the lock is granted.
    """
    context = context or current_request_context()
    action = str(action)
    if action not in AccessLog.Action.values:
        raise ValidationError({"action": _("Unknown access log action: %(action)s.") % {"action": action}})
    if action == AccessLog.Action.BREAK_GLASS and not purpose.strip():
        raise ValidationError({"purpose": _("Breaking the glass needs a stated reason.")})
    channel = context.channel if context.channel in AccessLog.Channel.values else AccessLog.Channel.SYSTEM
    if patient_external_id is not None and not isinstance(patient_external_id, uuid.UUID):
        try:
            patient_external_id = uuid.UUID(str(patient_external_id))
        except ValueError as exc:
            raise ValidationError({"patient_external_id": _("Not a valid patient id.")}) from exc

    fields: dict[str, Any] = {
        "external_id": uuid.uuid4(),
        **_actor_fields(actor, channel),
        "action": action,
        "object_type": _clip(object_type, "object_type"),
        "object_id": _clip(str(object_id or ""), "object_id"),
        "patient_external_id": patient_external_id,
        "purpose": purpose or "",
        "ip_address": _normalise_ip(context.ip_address),
        "user_agent": _clip(context.user_agent, "user_agent"),
        "request_id": _clip(context.request_id, "request_id"),
        "channel": channel,
    }
    if not fields["object_type"]:
        raise ValidationError({"object_type": _("An access log entry needs an object type.")})
    detail_json = _detail_json(detail)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        cursor.execute("SELECT row_hash FROM core_accesslog ORDER BY id DESC LIMIT 1")
        last = cursor.fetchone()
        # The id is taken under the lock, so id order is chain order; it is part of the hashed fields.
        # The detail is hashed as jsonb gives it back (jsonb rewrites numbers such as 1e+20), so that
        # verification, which reads it back, computes the same hash.
        cursor.execute("SELECT nextval(pg_get_serial_sequence('core_accesslog', 'id')), %s::jsonb", [detail_json])
        fields["id"], stored_detail = cursor.fetchone()
    fields["detail"] = json.loads(stored_detail) if isinstance(stored_detail, str) else stored_detail
    fields["prev_hash"] = last[0] if last else GENESIS_HASH
    fields["occurred_at"] = timezone.now()
    fields["row_hash"] = access_log_hash(fields)

    entry = AccessLog(**fields)
    entry.full_clean(exclude=["actor"], validate_unique=False, validate_constraints=False)
    entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_broken_id: int | None = None
    reason: str = ""


def access_log_verify(*, start_id: int | None = None, batch_size: int = 5000) -> VerifyResult:
    """Walk the access log in id order, recompute every row's hash and check every link to the row before.

    Returns at the first broken link: the row whose stored hash does not match its contents (the row
    was altered) or whose prev_hash is not the previous row's hash (a row before it was removed,
    inserted or altered together with its hash). Gaps in the ids are not breaks: an id taken by an
    entry whose transaction rolled back is never used. Starting at `start_id` trusts the row before
    it. Removing the newest rows leaves a valid shorter chain; compare the count with an earlier
    verification to notice that. Streams rows with a server-side cursor, `batch_size` at a time.
    """
    rows = AccessLog.objects.order_by("id")
    expected_prev = GENESIS_HASH
    if start_id is not None:
        rows = rows.filter(id__gte=start_id)
        before = AccessLog.objects.filter(id__lt=start_id).order_by("-id").values_list("row_hash", flat=True).first()
        expected_prev = before or GENESIS_HASH

    checked = 0
    for row in rows.values(*HASHED_FIELDS, "row_hash").iterator(chunk_size=batch_size):
        checked += 1
        if row["prev_hash"] != expected_prev:
            return VerifyResult(
                ok=False,
                rows_checked=checked,
                first_broken_id=row["id"],
                reason="prev_hash does not match the previous row's hash (a row before it was removed or altered)",
            )
        if access_log_hash(row) != row["row_hash"]:
            return VerifyResult(
                ok=False,
                rows_checked=checked,
                first_broken_id=row["id"],
                reason="row_hash does not match the row's contents (the row was altered)",
            )
        expected_prev = row["row_hash"]
    return VerifyResult(ok=True, rows_checked=checked)
