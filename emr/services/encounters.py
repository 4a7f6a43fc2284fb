"""Encounters and their care teams: who treats the patient, which is what opens the record to them."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import CareTeamMember, Encounter, Patient
from emr.selectors.access import is_clinician
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from scheduling.models import Ward

# Clocks of ward PCs drift; a start or end this far ahead of the server is still "now".
CLOCK_SKEW_SECONDS = 120


def _not_in_future(value: datetime, field: str) -> None:
    if (value - timezone.now()).total_seconds() > CLOCK_SKEW_SECONDS:
        raise ValidationError({field: _("This time cannot be in the future.")})


def _encounter_log(*, actor: User, action: str, encounter: Encounter, detail: dict) -> None:
    access_log_record(
        actor=actor,
        action=action,
        object_type="emr.encounter",
        object_id=str(encounter.external_id),
        patient_external_id=encounter.patient.external_id,
        detail=detail,
    )


@transaction.atomic
def encounter_start(
    *,
    patient: Patient,
    encounter_class: str,
    attending: User,
    started_by: User,
    ward: Ward | None = None,
    reason: str = "",
    started_at: datetime | None = None,
) -> Encounter:
    """Start an encounter (in progress) with `attending` as its attending clinician and first care-team member.

    Guarantees: the class is one of outpatient/inpatient/emergency; an inpatient encounter has a ward and
    only an inpatient one may have one; the attending is an active doctor or nurse; the start is not in
    the future; the patient is not a merged-away record. ValidationError with field errors otherwise, and
    nothing is written. Starting an encounter opens the patient's record to its care team, so it is
    access-logged ("create") like any other write.
    """
    errors: dict[str, str] = {}
    if encounter_class == Encounter.EncounterClass.INPATIENT and ward is None:
        errors["ward"] = _("An inpatient encounter needs a ward.")
    if ward is not None and encounter_class != Encounter.EncounterClass.INPATIENT:
        errors["ward"] = _("Only an inpatient encounter has a ward.")
    if not is_clinician(attending):
        errors["attending"] = _("The attending clinician must be an active doctor or nurse.")
    if not patient.is_active:
        errors["patient"] = _("This patient record was merged into another; use the surviving record.")
    started_at = started_at or timezone.now()
    try:
        _not_in_future(started_at, "started_at")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    encounter = Encounter(
        patient=patient,
        encounter_class=encounter_class,
        status=Encounter.Status.IN_PROGRESS,
        started_at=started_at,
        attending=attending,
        ward=ward,
        reason=(reason or "").strip(),
    )
    try:
        encounter.full_clean(exclude=["created_at", "updated_at"])
    except ValidationError as exc:
        errors = {**{k: v[0] for k, v in exc.message_dict.items()}, **errors}
    if errors:
        raise ValidationError(errors)
    encounter.save()
    CareTeamMember.objects.create(encounter=encounter, user=attending, role=CareTeamMember.Role.ATTENDING)
    _encounter_log(
        actor=started_by,
        action="create",
        encounter=encounter,
        detail={"encounter_class": encounter.encounter_class, "attending": attending.get_username()},
    )
    return encounter


@transaction.atomic
def encounter_finish(*, encounter: Encounter, finished_by: User, ended_at: datetime | None = None) -> Encounter:
    """Finish an in-progress encounter at `ended_at` (default now).

    Guarantees: only an in-progress encounter finishes (a finished or cancelled one gives a ValidationError
    on "status", checked under a row lock so two requests cannot both finish it); the end is not before
    the start and not in the future. Ward staff lose their access to the patient with it; the care team
    keeps theirs. Access-logged as a "write".
    """
    encounter = Encounter.objects.select_for_update().select_related("patient").get(pk=encounter.pk)
    if encounter.status != Encounter.Status.IN_PROGRESS:
        raise ValidationError({"status": _("Only an encounter in progress can be finished; this one is %(status)s.")
                               % {"status": encounter.get_status_display()}})  # fmt: skip
    ended_at = ended_at or timezone.now()
    _not_in_future(ended_at, "ended_at")
    if ended_at < encounter.started_at:
        raise ValidationError({"ended_at": _("An encounter cannot end before it started.")})
    encounter.status = Encounter.Status.FINISHED
    encounter.ended_at = ended_at
    encounter.full_clean(exclude=["created_at", "updated_at"])
    encounter.save(update_fields=["status", "ended_at", "updated_at"])
    _encounter_log(actor=finished_by, action="write", encounter=encounter, detail={"status": encounter.status})
    return encounter


def _care_team_open(encounter: Encounter) -> None:
    # The care team decides who may read the record; changing it after the encounter would grant or
    # withdraw access to a past episode of care, which is what break the glass and audits are for.
    if encounter.status not in (Encounter.Status.PLANNED, Encounter.Status.IN_PROGRESS):
        raise ValidationError({"encounter": _("The care team of a finished or cancelled encounter cannot change.")})


@transaction.atomic
def care_team_add(*, encounter: Encounter, user: User, role: str, added_by: User) -> CareTeamMember:
    """Add `user` to the encounter's care team in `role`, which opens the patient's record to them.

    Guarantees: the encounter is planned or in progress; the user is an active clinician (doctor or nurse)
    and not already on this care team; the role is valid. ValidationError with field errors otherwise,
    nothing written. Access-logged as a "write" on the encounter.
    """
    encounter = Encounter.objects.select_for_update().select_related("patient").get(pk=encounter.pk)
    _care_team_open(encounter)
    errors: dict[str, str] = {}
    if not is_clinician(user):
        errors["user"] = _("Only active doctors and nurses join a care team.")
    elif CareTeamMember.objects.filter(encounter=encounter, user=user).exists():
        errors["user"] = _("This person is already on the care team.")
    member = CareTeamMember(encounter=encounter, user=user, role=role)
    try:
        member.full_clean(exclude=["created_at", "updated_at"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = {**{k: v[0] for k, v in exc.message_dict.items()}, **errors}
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:  # added concurrently by someone else
        raise ValidationError({"user": _("This person is already on the care team.")}) from exc
    _encounter_log(
        actor=added_by,
        action="write",
        encounter=encounter,
        detail={"care_team": "add", "user": user.get_username(), "role": role},
    )
    return member


@transaction.atomic
def care_team_remove(*, encounter: Encounter, user: User, removed_by: User) -> None:
    """Remove `user` from the encounter's care team (their access through this encounter ends).

    Guarantees: the encounter is planned or in progress; the user is on the care team; the attending
    clinician stays (ValidationError: change the attending instead). Access-logged as a "write".
    """
    encounter = Encounter.objects.select_for_update().select_related("patient").get(pk=encounter.pk)
    _care_team_open(encounter)
    if encounter.attending_id == user.pk:
        raise ValidationError({"user": _("The attending clinician stays on the care team.")})
    deleted, _by_model = CareTeamMember.objects.filter(encounter=encounter, user=user).delete()
    if not deleted:
        raise ValidationError({"user": _("This person is not on the care team.")})
    _encounter_log(
        actor=removed_by,
        action="write",
        encounter=encounter,
        detail={"care_team": "remove", "user": user.get_username()},
    )
