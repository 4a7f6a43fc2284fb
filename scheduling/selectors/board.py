"""The bed board: every ward's beds by state, occupancy per ward, and the bed queue with suggestions.

Built in a fixed number of queries for any number of beds: the wards (with departments), the bed states
(scheduling.selectors.beds.bed_states), the waiting requests, and, for clinicians who are not bed
managers, which of the shown patients they may identify. A live board asks `bed_board_version` first:
one cheap query whose answer changes whenever anything the board shows changes.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.utils import timezone

from emr.models import Patient
from emr.selectors.access import is_clinician, patients_visible_to
from hospital.core import roles
from scheduling.models import BedRequest, Ward
from scheduling.selectors.beds import BLOCKED, CLEANING, FREE, OCCUPIED, STATES, BedState, bed_state, bed_states
from scheduling.selectors.requests import Suggestion, bed_request_queue, ranked_placements

QUEUE_LIMIT = 100


@dataclass
class BoardBed:
    """A bed tile: its state, and who lies there as initials (full name only where the viewer may see it)."""

    state: BedState
    initials: str = ""
    full_name: str = ""
    overdue: bool = False

    @property
    def bed(self):
        return self.state.bed


@dataclass
class BoardWard:
    ward: Ward
    beds: list[BoardBed] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    beds_html: str = ""  # the tiles as the page draws them, filled by the view

    @property
    def capacity(self) -> int:
        return len(self.beds)

    def percent(self, state: str) -> float:
        return round(100 * self.counts[state] / self.capacity, 1) if self.capacity else 0.0

    @property
    def occupancy_percent(self) -> int:
        return round(self.percent(OCCUPIED))

    @property
    def bar(self) -> list[tuple[str, float, int]]:
        """(state, percent, count) in the order the bar draws them."""
        return [(state, self.percent(state), self.counts[state]) for state in (OCCUPIED, CLEANING, BLOCKED, FREE)]


@dataclass
class BoardRequest:
    request: BedRequest
    initials: str
    full_name: str
    suggestions: list[Suggestion]


@dataclass
class Board:
    wards: list[BoardWard]
    queue: list[BoardRequest]
    totals: dict[str, int]
    names_shown: int
    today: date

    @property
    def capacity(self) -> int:
        return sum(self.totals.values())

    @property
    def occupancy_percent(self) -> int:
        return round(100 * self.totals[OCCUPIED] / self.capacity) if self.capacity else 0


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" for char in text)


def patient_initials(patient: Patient) -> str:
    """What a bed tile shows of a name: "F.W." for Fang Wang; "王*" for 王芳 (Chinese names keep the surname)."""
    family, given = patient.family_name.strip(), patient.given_name.strip()
    if _is_cjk(family):
        return f"{family[:1]}{'*' * max(1, len(given))}"
    return "".join(f"{part[:1].upper()}." for part in (given, family) if part)


def sees_all_names(user) -> bool:
    """Bed managers (and superusers) place patients by name; everyone else sees initials unless they treat them."""
    return bool(user.is_superuser or user.has_role(roles.BED_MANAGER))


def _nameable(user, patient_ids: set[int]) -> set[int] | None:
    """The ids among `patient_ids` whose full name `user` may see (None: all), at most one query."""
    if sees_all_names(user):
        return None
    if not patient_ids or not is_clinician(user):
        return set()
    return set(patients_visible_to(user).filter(pk__in=patient_ids).values_list("pk", flat=True))


def bed_board(*, fetched_by, suggestions_per_request: int = 3) -> Board:
    """The whole board for `fetched_by` (who must be allowed to see it: the view checks the role).

    Every active bed of every ward in ward and bed order, the ward's counts by state, the waiting queue
    (most urgent first, at most QUEUE_LIMIT) with up to `suggestions_per_request` ranked free beds each.
    Names: initials for everyone; the full name only for bed managers and for clinicians who may read the
    patient's record. Six or seven queries whatever the number of beds. Callers log the read.
    """
    today = timezone.localdate()
    wards = list(Ward.objects.select_related("department").order_by("code"))
    states = bed_states()
    queue = list(bed_request_queue(fetched_by=fetched_by, limit=QUEUE_LIMIT))
    patients = {state.patient.pk for state in states.values() if state.state == OCCUPIED and state.patient is not None}
    patients |= {request.patient_id for request in queue}
    nameable = _nameable(fetched_by, patients)

    def names(patient: Patient) -> tuple[str, str]:
        allowed = nameable is None or patient.pk in nameable
        return patient_initials(patient), (patient.full_name if allowed else "")

    by_ward: dict[int, BoardWard] = {ward.pk: BoardWard(ward=ward) for ward in wards}
    totals = dict.fromkeys(STATES, 0)
    for state in states.values():
        tile = BoardBed(state=state)
        if state.state == OCCUPIED:
            assert state.patient is not None  # an occupied bed has a stay
            tile.initials, tile.full_name = names(state.patient)
            tile.overdue = bool(state.expected_discharge_on and state.expected_discharge_on < today)
        board_ward = by_ward[state.bed.ward_id]
        board_ward.beds.append(tile)
        board_ward.counts[state.state] += 1
        totals[state.state] += 1

    specialty = {ward.department_id: ward.department.specialty for ward in wards}
    suggestions = ranked_placements(
        requests=queue, states=states, department_specialty=specialty, limit=suggestions_per_request
    )
    board_queue = [BoardRequest(request, *names(request.patient), suggestions[request.pk]) for request in queue]
    shown = {
        bed.state.patient.pk
        for ward in by_ward.values()
        for bed in ward.beds
        if bed.full_name and bed.state.patient is not None
    }
    shown |= {item.request.patient_id for item in board_queue if item.full_name}
    return Board(
        wards=[ward for ward in by_ward.values() if ward.beds],
        queue=board_queue,
        totals=totals,
        names_shown=len(shown),
        today=today,
    )


# One statement: the set of rows the board shows (stays and blocks in force now, open cleanings, waiting
# requests) summarised by count, sum of ids and newest update, plus beds and wards. Each part is a few
# rows read through an index, not the tables' history, so an unchanged board costs about a millisecond.
_VERSION_SQL = """
SELECT concat_ws('|',
  (SELECT concat(count(*), ':', sum(id), ':', max(updated_at)) FROM scheduling_bedstay WHERE period @> now()),
  (SELECT concat(count(*), ':', sum(id), ':', max(updated_at)) FROM scheduling_bedcleaning
     WHERE completed_at IS NULL),
  (SELECT concat(count(*), ':', sum(id), ':', max(updated_at)) FROM scheduling_bedblock WHERE period @> now()),
  (SELECT concat(count(*), ':', sum(id), ':', max(updated_at)) FROM scheduling_bedrequest WHERE status = 'waiting'),
  (SELECT concat(count(*), ':', max(updated_at)) FROM scheduling_bed),
  (SELECT concat(count(*), ':', max(updated_at)) FROM scheduling_ward)
)
"""


def bed_board_version() -> str:
    """A value that changes whenever anything the bed board shows changes (one query).

    Covers admissions, transfers, discharges and changed expected discharges (the stays in force now),
    cleanings opened and completed, blocks starting, ending or cancelled, the queue, and beds and wards
    edited. It does not see a patient's name corrected while they lie in a bed; the next change does.
    """
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        return cursor.fetchone()[0]


def bed_tile(*, fetched_by, bed) -> BoardBed | None:
    """One bed as the board's menu shows it (state, initials, full name where allowed); None for a closed bed.

    A few queries (the bed's state, and for a clinician whether they may identify the patient). Callers log
    the read when a name is shown.
    """
    state = bed_state(bed=bed)
    if state is None:
        return None
    tile = BoardBed(state=state)
    if state.state == OCCUPIED:
        patient = state.patient
        assert patient is not None  # an occupied bed has a stay
        nameable = _nameable(fetched_by, {patient.pk})
        tile.initials = patient_initials(patient)
        tile.full_name = patient.full_name if nameable is None or patient.pk in nameable else ""
        tile.overdue = bool(state.expected_discharge_on and state.expected_discharge_on < timezone.localdate())
    return tile
