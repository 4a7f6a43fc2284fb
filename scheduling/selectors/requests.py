"""The bed queue and placement suggestions: which free beds suit a waiting patient, best first, and why.

Placement has hard rules (a bed that breaks one is never suggested, and bed_request_assign refuses it)
and soft preferences that order the rest:

- hard: the bed is free and active; a single-sex ward or room only takes patients of that sex (a patient
  whose sex is other or unknown goes to mixed wards and rooms); a patient who needs isolation gets an
  isolation bed or a bed in an isolation room; the ward's nursing level is at least the one needed;
  intensive-care beds are kept for critical care (specialty critical care or intensive nursing).
- soft: the ward's specialty (strongest), then isolation met, a matching bed type (paediatric,
  maternity), the nursing level not higher than needed, isolation beds kept for those who need them,
  and load spread towards wards with more beds free (keeps every ward some room for its own admissions).

Everything is computed in a fixed number of queries (the bed states, the departments' specialties),
whatever the number of beds or requests.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from scheduling.models import Bed, BedRequest, Department, Specialty, Ward
from scheduling.selectors.beds import FREE, bed_states

NURSING_RANK: dict[str, int] = {
    Ward.NursingLevel.STANDARD: 0,
    Ward.NursingLevel.HIGH_DEPENDENCY: 1,
    Ward.NursingLevel.INTENSIVE: 2,
}

# Points of the soft preferences; the specialty dominates everything else together.
SCORE_SPECIALTY = 50
SCORE_DEPARTMENT = 25
SCORE_ISOLATION_MET = 20
SCORE_BED_TYPE = 15
SCORE_LOAD_MAX = 15
SCORE_NURSING_EXACT = 10
SCORE_SAME_SEX = 5
PENALTY_NURSING_HIGHER = -10
PENALTY_ISOLATION_UNNEEDED = -15
PENALTY_BED_TYPE = -20

SPECIAL_BED_SPECIALTY: dict[str, Specialty] = {
    Bed.BedType.PAEDIATRIC: Specialty.PAEDIATRICS,
    Bed.BedType.MATERNITY: Specialty.OBSTETRICS,
}


@dataclass
class Suggestion:
    """A free bed for a request, its score (higher is better) and the reasons, as translated sentences."""

    bed: Bed
    score: int
    reasons: list[str] = field(default_factory=list)


def _may_view(user) -> bool:
    return bool(user and user.is_active and user.has_perm("scheduling.view_bedrequest"))


def bed_request_queue(*, fetched_by, limit: int | None = None) -> QuerySet[BedRequest]:
    """The waiting requests, most urgent first (priority 1 before 5, then the longest waiting), as one query.

    Patients, their encounters and the requesters come along (select_related). Users without the
    permission to view bed requests get an empty queue. Callers log what they show.
    """
    if not _may_view(fetched_by):
        return BedRequest.objects.none()
    queryset = (
        BedRequest.objects.filter(status=BedRequest.Status.WAITING)
        .select_related("patient", "encounter", "requested_by")
        .order_by("priority", "needed_from", "id")
    )
    return queryset[:limit] if limit else queryset


def bed_request_list(*, fetched_by, status: str | None = None) -> QuerySet[BedRequest]:
    """Requests of any status (the waiting queue's order), newest needs first within a priority; one query."""
    if not _may_view(fetched_by):
        return BedRequest.objects.none()
    queryset = BedRequest.objects.select_related(
        "patient", "encounter", "requested_by", "assigned_stay__bed__ward", "assigned_stay__encounter"
    ).order_by("priority", "needed_from", "id")
    return queryset.filter(status=status) if status else queryset


def bed_request_get(*, fetched_by, external_id) -> BedRequest:
    """One request by external id (BedRequest.DoesNotExist when missing or not visible to the user)."""
    return bed_request_list(fetched_by=fetched_by).get(external_id=external_id)


def _sex_fits(policy: str, sex: str) -> bool:
    return policy == Ward.SexPolicy.MIXED or policy == sex


def placement_violations(*, request: BedRequest, bed: Bed) -> list[str]:
    """The hard rules `bed` breaks for `request`, as translated sentences (empty when it may be used).

    Needs bed.ward and bed.room loaded (select_related) and request.patient; runs no query of its own.
    Says nothing about whether the bed is free now: that is the bed state's (and bed_stay_admit's) job.
    """
    ward, room, sex = bed.ward, bed.room, request.patient.sex
    problems = []
    if not bed.is_active:
        problems.append(_("The bed is closed."))
    if not _sex_fits(ward.sex_policy, sex):
        problems.append(_("The ward is %(policy)s.") % {"policy": ward.get_sex_policy_display().lower()})
    if room is not None and not _sex_fits(room.sex_policy, sex):
        problems.append(_("The room is %(policy)s.") % {"policy": room.get_sex_policy_display().lower()})
    if request.needs_isolation and not _is_isolation(bed):
        problems.append(_("The patient needs isolation and this is not an isolation bed or room."))
    if NURSING_RANK[ward.nursing_level] < NURSING_RANK[request.nursing_level]:
        problems.append(
            _("The ward's nursing level (%(ward)s) is below the level needed (%(needed)s).")
            % {"ward": ward.get_nursing_level_display(), "needed": request.get_nursing_level_display()}
        )
    if bed.bed_type == Bed.BedType.ICU and not _needs_critical_care(request):
        problems.append(_("Intensive-care beds are kept for patients who need critical care."))
    return problems


def _is_isolation(bed: Bed) -> bool:
    return bed.bed_type == Bed.BedType.ISOLATION or (bed.room is not None and bed.room.is_isolation)


def _needs_critical_care(request: BedRequest) -> bool:
    return request.specialty == Specialty.CRITICAL_CARE or request.nursing_level == Ward.NursingLevel.INTENSIVE


def _allowed(request: BedRequest, bed: Bed) -> bool:
    """placement_violations(...) == [] without building its sentences (the board checks thousands of pairs)."""
    ward, room, sex = bed.ward, bed.room, request.patient.sex
    return (
        bed.is_active
        and _sex_fits(ward.sex_policy, sex)
        and (room is None or _sex_fits(room.sex_policy, sex))
        and (not request.needs_isolation or _is_isolation(bed))
        and NURSING_RANK[ward.nursing_level] >= NURSING_RANK[request.nursing_level]
        and (bed.bed_type != Bed.BedType.ICU or _needs_critical_care(request))
    )


def _score(
    request: BedRequest, bed: Bed, department_specialty: str | None, free: int, capacity: int, *, explain: bool
) -> Suggestion:
    # Reasons are sentences made only when asked for: ranking scores every free bed, explaining only the best.
    ward, room = bed.ward, bed.room
    suggestion = Suggestion(bed=bed, score=0)

    def add(points: int, reason) -> None:
        suggestion.score += points
        if explain:
            suggestion.reasons.append(reason())

    if ward.specialty == request.specialty:
        add(SCORE_SPECIALTY, lambda: _("Ward specialty matches"))
    elif department_specialty == request.specialty:
        add(SCORE_DEPARTMENT, lambda: _("Ward of the matching department"))
    else:
        add(0, lambda: _("Outlier: %(specialty)s ward") % {"specialty": ward.get_specialty_display()})
    if request.needs_isolation:
        add(
            SCORE_ISOLATION_MET,
            lambda: _("Isolation room") if room is not None and room.is_isolation else _("Isolation bed"),
        )
    elif _is_isolation(bed):
        add(PENALTY_ISOLATION_UNNEEDED, lambda: _("Isolation bed not needed: kept for those who need one"))
    wanted = SPECIAL_BED_SPECIALTY.get(bed.bed_type)
    if wanted is not None:
        if wanted == request.specialty:
            add(SCORE_BED_TYPE, lambda: _("%(type)s bed") % {"type": bed.get_bed_type_display()})
        else:
            add(
                PENALTY_BED_TYPE, lambda: _("%(type)s bed for another specialty") % {"type": bed.get_bed_type_display()}
            )
    if ward.nursing_level == request.nursing_level:
        add(SCORE_NURSING_EXACT, lambda: _("Nursing level matches"))
    else:
        add(PENALTY_NURSING_HIGHER, lambda: _("Higher nursing level than needed"))
    if request.patient.sex in (Ward.SexPolicy.FEMALE, Ward.SexPolicy.MALE) and (
        ward.sex_policy == request.patient.sex or (room is not None and room.sex_policy == request.patient.sex)
    ):
        add(SCORE_SAME_SEX, lambda: _("Single-sex ward or room"))
    add(
        round(SCORE_LOAD_MAX * free / capacity) if capacity else 0,
        lambda: _("%(free)d of %(total)d beds free on this ward") % {"free": free, "total": capacity},
    )
    return suggestion


def department_specialties() -> dict[int, str]:
    """Each department's specialty by department id (one query); ranked_placements needs it."""
    return dict(Department.objects.values_list("id", "specialty"))


def ranked_placements(
    *, requests: list[BedRequest], states: dict, department_specialty: dict[int, str], limit: int = 5
) -> dict[int, list[Suggestion]]:
    """Suggestions for each request (by request id) from bed states already loaded: no queries.

    `states` is scheduling.selectors.beds.bed_states()'s answer (beds with ward and room) and
    `department_specialty` department_specialties()'s. The bed board suggests beds for its whole queue
    with one call of this.
    """
    capacity = Counter(state.bed.ward_id for state in states.values())
    free_beds = [state.bed for state in states.values() if state.state == FREE]
    free = Counter(bed.ward_id for bed in free_beds)
    answer = {}
    for request in requests:

        def score(bed, explain=False, request=request):
            specialty = department_specialty.get(bed.ward.department_id)
            return _score(request, bed, specialty, free[bed.ward_id], capacity[bed.ward_id], explain=explain)

        scored = [score(bed) for bed in free_beds if _allowed(request, bed)]
        scored.sort(key=lambda s: (-s.score, s.bed.ward.code, s.bed.code))
        answer[request.pk] = [score(s.bed, explain=True) for s in scored[:limit]]
    return answer


def placement_suggestions(*, request: BedRequest, limit: int = 5) -> list[Suggestion]:
    """The free beds that satisfy every hard rule for `request`, best first, at most `limit` of them.

    Each Suggestion has the bed (ward and room loaded), a score and the reasons for it as translated
    sentences (e.g. "Ward specialty matches", "Isolation room"). A fixed number of queries (the bed states
    and the departments' specialties) whatever the hospital's size. An assigned or cancelled request gets
    none. `request.patient` should be loaded (select_related) or it costs one more query.
    """
    if request.status != BedRequest.Status.WAITING:
        return []
    states = bed_states()
    return ranked_placements(
        requests=[request], states=states, department_specialty=department_specialties(), limit=limit
    )[request.pk]
