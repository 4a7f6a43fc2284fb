"""Reads of the scribe, scoped to the user through the EMR's access rules (emr.selectors.access).

Who may use the scribe: a clinician who may write clinical content for the patient (care team, attending,
ward staff, or a break-the-glass grant) and may write notes (emr.add_clinicalnote: doctors), because what
the scribe produces is a draft note. A job is seen by the clinician who made it and by the doctors of the
encounter's care team; anyone else is answered as if it did not exist. These functions write nothing to
the access log: callers log what they show.
"""

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from ai.scribe.models import ScribeJob, ScribeSuggestion
from ai.scribe.services import scribe_job_may_review
from emr.models import CareTeamMember, Encounter
from emr.selectors.access import is_clinician, patient_for_clinical_read, patient_for_clinical_write
from emr.selectors.clinical import active_problems, current_medications
from hospital.core import roles
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

NOTE_PERMISSION = "emr.add_clinicalnote"


def scribe_may_use(user) -> bool:
    """Whether the user's role may use the scribe at all (a clinician who writes notes)."""
    return is_clinician(user) and user.has_perm(NOTE_PERMISSION)


def _require_role(user) -> None:
    if not scribe_may_use(user):
        raise PermissionDenied(_("Only doctors who write notes can use the scribe."))


def scribe_encounter_for_create(*, user: User, external_id: uuid.UUID | str) -> Encounter:
    """The encounter a new scribe job is for, if `user` may document it.

    Raises PermissionDenied for a role that does not write notes (before the lookup), Encounter.DoesNotExist
    for an unknown id, and BreakGlassRequired for a clinician who does not treat the patient. The returned
    encounter's patient carries `via_break_glass`.
    """
    _require_role(user)
    encounter = Encounter.objects.select_related("patient").get(external_id=external_id)
    encounter.patient = patient_for_clinical_write(user=user, external_id=encounter.patient.external_id)
    return encounter


def _jobs() -> QuerySet[ScribeJob]:
    return ScribeJob.objects.select_related("patient", "encounter", "clinician", "note")


def scribe_job_get(*, user: User, external_id: uuid.UUID | str) -> ScribeJob:
    """One job if `user` may review it: PermissionDenied for a role without the scribe, BreakGlassRequired for a
    clinician who does not treat the patient, ScribeJob.DoesNotExist for an unknown job or one that is neither
    theirs nor their care team's. `job.patient.via_break_glass` says how the record was opened."""
    _require_role(user)
    job = _jobs().filter(external_id=external_id).first()
    if job is None:
        raise ScribeJob.DoesNotExist
    job.patient = patient_for_clinical_read(user=user, external_id=job.patient.external_id)
    if not scribe_job_may_review(job=job, user=user):
        raise ScribeJob.DoesNotExist
    return job


def scribe_job_list(*, user: User, encounter: Encounter | None = None, limit: int = 50) -> list[ScribeJob]:
    """The jobs `user` may review, newest first (of one encounter when given): their own, and those of the
    encounters where they are a doctor of the care team, of patients they may still read. One query."""
    if not scribe_may_use(user):
        return []
    jobs = _jobs()
    if encounter is not None:
        jobs = jobs.filter(encounter=encounter)
    mine = Q(clinician=user)
    if user.has_role(roles.DOCTOR):
        team = CareTeamMember.objects.filter(user=user).values("encounter_id")
        mine |= Q(encounter__attending=user) | Q(encounter_id__in=team)
    if not user.is_superuser:
        from emr.selectors.access import patients_visible_to

        jobs = jobs.filter(patient__in=patients_visible_to(user))
    return list(jobs.filter(mine).order_by("-created_at", "-id")[:limit])


def scribe_suggestions(*, job: ScribeJob) -> list[ScribeSuggestion]:
    """The job's suggestions in transcript order (by where their source starts), decisions' users joined in."""
    return list(job.suggestions.select_related("decided_by").order_by("span_start", "position"))


def scribe_suggestion_get(*, job: ScribeJob, external_id: uuid.UUID | str) -> ScribeSuggestion:
    """One suggestion of a job the caller already got through `scribe_job_get` (DoesNotExist otherwise)."""
    return job.suggestions.select_related("decided_by").get(external_id=external_id)


def scribe_vocabulary_context(*, job: ScribeJob) -> tuple[list[str], list[str]]:
    """The names that bias recognition for this patient: active problems (ICD-10 titles, English and Chinese)
    and current medications (generic names and synonyms of the ordered drugs)."""
    problems: list[str] = []
    for condition in active_problems(patient=job.patient):
        problems += [name for name in (condition.icd10.title, condition.icd10.title_zh) if name]
    medications: list[str] = []
    for order in current_medications(patient=job.patient):
        drug = order.drug
        medications += [name for name in (drug.generic_name_en, drug.generic_name_zh, *drug.synonyms) if name]
    return list(dict.fromkeys(problems)), list(dict.fromkeys(medications))


def scribe_job_read_record(*, user: User, job: ScribeJob, detail: dict[str, object]) -> None:
    """The access-log entry of showing a job (its transcript and suggestions are patient data)."""
    detail = dict(detail)
    if getattr(job.patient, "via_break_glass", False):
        detail["break_glass"] = True
    access_log_record(
        actor=user,
        action="read",
        object_type="scribe.scribejob",
        object_id=str(job.external_id),
        patient_external_id=job.patient.external_id,
        detail=detail,
    )
