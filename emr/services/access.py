"""Break the glass: time-limited emergency access to one patient, with a stated reason and a review."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import BreakGlassAccess, Patient
from emr.selectors.access import break_glass_can_review, is_clinician
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

BREAK_GLASS_REASON_MIN_LENGTH = 10


def _minutes_validate(minutes: int | None) -> int:
    longest = settings.BREAK_GLASS_MINUTES
    if minutes is None:
        return longest
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= longest:
        raise ValidationError(
            {"minutes": _("Break-the-glass access lasts from 1 to %(longest)d minutes.") % {"longest": longest}}
        )
    return minutes


@transaction.atomic
def break_glass_grant(*, user: User, patient: Patient, reason: str, minutes: int | None = None) -> BreakGlassAccess:
    """Open `patient`'s record to `user` for `minutes` (default and longest: settings.BREAK_GLASS_MINUTES).

    Guarantees: only clinicians (doctors, nurses) may break the glass (PermissionDenied otherwise;
    records archivists never read clinical content, so they cannot); the reason, stripped, has at least
    ten characters (ValidationError on "reason" otherwise, and nothing is written); the grant is flagged
    for review until an auditor reviews it; the grant and a "break_glass" access-log entry carrying the
    reason as its purpose are written together or not at all. A merged-away patient cannot be opened:
    its records live on the surviving patient.
    """
    if not is_clinician(user):
        raise PermissionDenied(_("Only doctors and nurses can break the glass."))
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    errors: dict[str, str | list[str]] = {}
    if len(reason) < BREAK_GLASS_REASON_MIN_LENGTH:
        errors["reason"] = _("State the reason for breaking the glass in at least %(n)d characters.") % {
            "n": BREAK_GLASS_REASON_MIN_LENGTH
        }
    try:
        minutes = _minutes_validate(minutes)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not patient.is_active:
        errors["patient"] = _("This patient record was merged into another; open the surviving record.")
    if errors:
        raise ValidationError(errors)
    assert minutes is not None  # _minutes_validate returned, since there are no errors

    now = timezone.now()
    grant = BreakGlassAccess(user=user, patient=patient, reason=reason, expires_at=now + timedelta(minutes=minutes))
    grant.full_clean(exclude=["created_at", "updated_at"])
    grant.save()
    access_log_record(
        actor=user,
        action="break_glass",
        object_type="emr.breakglassaccess",
        object_id=str(grant.external_id),
        patient_external_id=patient.external_id,
        purpose=reason,
        detail={"minutes": minutes, "expires_at": grant.expires_at.isoformat()},
    )
    return grant


@transaction.atomic
def break_glass_review(*, grant: BreakGlassAccess, reviewed_by: User, note: str = "") -> BreakGlassAccess:
    """Record an auditor's review of a break-the-glass grant (clears its review flag).

    Guarantees: only auditors and administrators review (PermissionDenied otherwise), never their own
    grant; a grant is reviewed once (ValidationError when already reviewed, checked under a row lock so
    two reviewers cannot both succeed). The review is access-logged as a "write" on the grant.
    """
    if not break_glass_can_review(reviewed_by):
        raise PermissionDenied(_("Only auditors review break-the-glass access."))
    grant = BreakGlassAccess.objects.select_for_update().select_related("patient").get(pk=grant.pk)
    if grant.user_id == reviewed_by.pk:
        raise PermissionDenied(_("Nobody reviews their own break-the-glass access."))
    if grant.reviewed_at is not None:
        raise ValidationError({"grant": _("This break-the-glass access has already been reviewed.")})
    grant.reviewed_at = timezone.now()
    grant.reviewed_by = reviewed_by
    grant.review_note = (note or "").strip()
    grant.full_clean(exclude=["created_at", "updated_at"])
    grant.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "updated_at"])
    access_log_record(
        actor=reviewed_by,
        action="write",
        object_type="emr.breakglassaccess",
        object_id=str(grant.external_id),
        patient_external_id=grant.patient.external_id,
        detail={"review": True},
    )
    return grant


def access_denied_record(*, user: User, patient: Patient, object_type: str, detail: dict | None = None) -> None:
    """Log a refused attempt to read a patient's record (action "read", detail {"denied": true, ...}).

    Call it where a clinician who does not treat the patient is refused (emr.selectors.access raises
    BreakGlassRequired): auditors look for refused attempts as much as for reads. Only call it for a
    patient that exists and a user with a clinical role, never before the lookup (that would log guesses).
    """
    access_log_record(
        actor=user,
        action="read",
        object_type=object_type,
        object_id=str(patient.external_id),
        patient_external_id=patient.external_id,
        detail={**(detail or {}), "denied": True},
    )
