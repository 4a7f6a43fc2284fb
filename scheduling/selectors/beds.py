"""Every bed's state, derived from bed stays, cleanings and blocks: never stored, so never out of date.

A bed at a moment is, in this order of precedence:
- "occupied": a stay's period contains the moment (a patient lies there, even in a bed blocked later);
- "blocked": a block's period contains the moment (maintenance, infection control, ...);
- "cleaning": a cleaning was requested at or before the moment and was not completed by then;
- "free": none of these.
Only active beds are listed: an inactive bed is closed and counts neither as capacity nor as free.
Each selector runs a fixed number of queries whatever the number of beds.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q, QuerySet
from django.utils import timezone

from emr.models import Encounter, Patient
from scheduling.models import AdtEvent, Bed, BedBlock, BedCleaning, BedStay, Ward

OCCUPIED = "occupied"
FREE = "free"
CLEANING = "cleaning"
BLOCKED = "blocked"
STATES = (OCCUPIED, FREE, CLEANING, BLOCKED)

# The patient columns a bed board shows; the encrypted identifiers are never loaded for it.
PATIENT_BOARD_FIELDS = ("external_id", "mrn", "family_name", "given_name", "sex", "birth_date")
ENCRYPTED_PATIENT_FIELDS = ("national_id", "phone", "insurance_number", "address", "email")


@dataclass
class BedState:
    """One bed's state at a moment, with what the bed board shows about it."""

    bed: Bed
    state: str
    stay: BedStay | None = None
    cleaning: BedCleaning | None = None
    block: BedBlock | None = None

    @property
    def encounter(self) -> Encounter | None:
        return self.stay.encounter if self.stay else None

    @property
    def patient(self) -> Patient | None:
        return self.stay.encounter.patient if self.stay else None

    @property
    def expected_discharge_on(self) -> date | None:
        return self.stay.expected_discharge_on if self.stay else None

    @property
    def occupied_since(self) -> datetime | None:
        return self.stay.period.lower if self.stay else None

    @property
    def cleaning_since(self) -> datetime | None:
        return self.cleaning.requested_at if self.cleaning else None

    @property
    def block_reason(self) -> str:
        return self.block.reason if self.block else ""

    @property
    def blocked_until(self) -> datetime | None:
        return self.block.period.upper if self.block else None


@dataclass
class WardOccupancy:
    """A ward's beds by state at a moment; capacity is its active beds."""

    ward: Ward
    capacity: int = 0
    occupied: int = 0
    free: int = 0
    cleaning: int = 0
    blocked: int = 0
    counts: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def occupancy_rate(self) -> float | None:
        return self.occupied / self.capacity if self.capacity else None


def _ward_filter(wards: Iterable[Ward] | QuerySet | None, prefix: str) -> Q:
    if wards is None:
        return Q()
    return Q(**{f"{prefix}__in": wards})


def _stays_at(bed_filter: Q, at: datetime) -> QuerySet[BedStay]:
    # The stays lying in a bed at `at`, with only what the board shows of the encounter and the patient.
    return (
        BedStay.objects.filter(bed_filter, period__contains=at)
        .select_related("encounter__patient")
        .only(
            "id",
            "external_id",
            "bed_id",
            "period",
            "expected_discharge_on",
            "encounter__id",
            "encounter__external_id",
            "encounter__status",
            "encounter__encounter_class",
            "encounter__started_at",
            "encounter__ward_id",
            "encounter__patient_id",
            *(f"encounter__patient__{name}" for name in PATIENT_BOARD_FIELDS),
        )  # fmt: skip
    )


def _cleanings_at(bed_filter: Q, at: datetime) -> QuerySet[BedCleaning]:
    return BedCleaning.objects.filter(bed_filter, requested_at__lte=at).filter(
        Q(completed_at__isnull=True) | Q(completed_at__gt=at)
    )


def _blocks_at(bed_filter: Q, at: datetime) -> QuerySet[BedBlock]:
    return BedBlock.objects.filter(bed_filter, period__contains=at)


def _state_of(stay: BedStay | None, block: BedBlock | None, cleaning: BedCleaning | None) -> str:
    """The one precedence rule: a bed someone lies in is occupied, else blocked, else cleaning, else free."""
    if stay is not None:
        return OCCUPIED
    if block is not None:
        return BLOCKED
    if cleaning is not None:
        return CLEANING
    return FREE


def bed_states(*, wards: Iterable[Ward] | QuerySet | None = None, at: datetime | None = None) -> dict[int, BedState]:
    """The state of every active bed (of `wards`, default all) at `at` (default now), keyed by bed id.

    Four queries for any number of beds: the beds (with ward and room), the stays containing `at` (with
    encounter and the patient's board fields), the cleanings open at `at`, and the blocks in force at
    `at`. Beds come in ward and code order. Not scoped to a user: callers check the permission to see
    bed occupancy (scheduling.view_bedstay) and log the read.
    """
    at = at or timezone.now()
    beds = list(
        Bed.objects.filter(_ward_filter(wards, "ward"), is_active=True)
        .select_related("ward", "room")
        .order_by("ward__code", "code", "id")
    )
    if not beds:
        return {}
    bed_filter = _ward_filter(wards, "bed__ward") & Q(bed__is_active=True)
    stays = _stays_at(bed_filter, at)
    cleanings = _cleanings_at(bed_filter, at)
    blocks = _blocks_at(bed_filter, at)
    stay_by_bed = {stay.bed_id: stay for stay in stays}
    cleaning_by_bed = {cleaning.bed_id: cleaning for cleaning in cleanings}
    block_by_bed = {block.bed_id: block for block in blocks}

    states: dict[int, BedState] = {}
    for bed in beds:
        stay, cleaning, block = stay_by_bed.get(bed.pk), cleaning_by_bed.get(bed.pk), block_by_bed.get(bed.pk)
        states[bed.pk] = BedState(
            bed=bed, state=_state_of(stay, block, cleaning), stay=stay, cleaning=cleaning, block=block
        )
    return states


def bed_state(*, bed: Bed, at: datetime | None = None) -> BedState | None:
    """One bed's state at `at` (default now); None for an inactive bed. Same rules as bed_states."""
    at = at or timezone.now()
    if not bed.is_active:
        return None
    one_bed = Q(bed=bed)
    stay = _stays_at(one_bed, at).first()
    block = _blocks_at(one_bed, at).first()
    cleaning = _cleanings_at(one_bed, at).first()
    return BedState(bed=bed, state=_state_of(stay, block, cleaning), stay=stay, cleaning=cleaning, block=block)


def ward_occupancy(
    *, wards: Iterable[Ward] | QuerySet | None = None, at: datetime | None = None
) -> dict[int, WardOccupancy]:
    """Per ward (of `wards`, default all, in code order; keyed by ward id): capacity (active beds) and how many
    beds are occupied, free, cleaning and blocked at `at` (default now). Five queries for any number of
    wards and beds. Wards without active beds are listed with zeros.
    """
    ward_list = list(Ward.objects.filter(_ward_filter(wards, "pk")).select_related("department").order_by("code"))
    result = {ward.pk: WardOccupancy(ward=ward) for ward in ward_list}
    if not result:
        return result
    for state in bed_states(wards=ward_list, at=at).values():
        occupancy = result[state.bed.ward_id]
        occupancy.capacity += 1
        setattr(occupancy, state.state, getattr(occupancy, state.state) + 1)
    for occupancy in result.values():
        occupancy.counts = {name: getattr(occupancy, name) for name in STATES}
    return result


def open_stay_of(*, encounter: Encounter) -> BedStay | None:
    """The encounter's current (open) bed stay with its bed and ward, or None when the patient is in no bed."""
    return (
        BedStay.objects.select_related("bed__ward").filter(encounter=encounter, period__endswith__isnull=True).first()
    )


def adt_event_list(*, since: datetime | None = None, limit: int = 500) -> list[AdtEvent]:
    """ADT events recorded at or after `since` (all when None), oldest first, at most `limit`.

    "Recorded" is the row's created_at, not occurred_at: a back-dated admission is still new to a client
    that polls. The bound is inclusive, so a client polling with the last time it saw drops repeats by
    external_id. Loads patient, encounter, beds and their wards in the same query.
    """
    events = AdtEvent.objects.select_related(
        "patient", "encounter", "from_bed__ward", "to_bed__ward", "recorded_by"
    ).order_by("created_at", "id")
    # The feed names patients by external id and MRN; their encrypted identifiers are not decrypted for it.
    events = events.defer(*(f"patient__{name}" for name in ENCRYPTED_PATIENT_FIELDS))
    if since is not None:
        events = events.filter(created_at__gte=since)
    return list(events[:limit])


def stays_overlapping(*, bed: Bed, start: datetime, end: datetime | None = None) -> QuerySet[BedStay]:
    """The stays of a bed that overlap [start, end) (end None: from start on)."""
    return BedStay.objects.filter(bed=bed, period__overlap=DateTimeTZRange(start, end))
