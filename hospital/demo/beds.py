"""The demo inpatients lie in beds: each in-progress inpatient encounter gets a bed stay on its ward.

Stays are written straight to the table (with their admit ADT events), as a hospital that already ran
before this system would import them: the ADT services would stamp every admission "now" and log each
one. A few free beds wait for housekeeping and two are blocked, so the bed board shows every state.
Idempotent: encounters that already have an open stay are skipped, and the cleanings and blocks are
made only while the demo wards have none.
"""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Exists, Max, OuterRef
from django.db.models.functions import Upper
from django.utils import timezone

from emr.models import Encounter
from hospital.core import roles
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from hospital.demo.catalogue import WARDS
from hospital.demo.charts import SEED_PURPOSE
from scheduling.models import AdtEvent, Bed, BedBlock, BedCleaning, BedStay, Ward
from scheduling.selectors.beds import FREE, bed_states

BLOCK_REASONS = (
    ("Maintenance: broken bed rail, part ordered", timedelta(days=1), None),
    ("Infection control: terminal clean after C. difficile", timedelta(hours=3), timedelta(days=2)),
)


def _system_user() -> User | None:
    # Who "did" the housekeeping requests and blocks: the demo bed manager, else any administrator.
    user = User.objects.filter(groups__name=roles.BED_MANAGER, is_active=True).order_by("id").first()
    return user or User.objects.filter(is_superuser=True).order_by("id").first()


@transaction.atomic
def bed_stays_for_inpatients(*, seed: int, now: datetime | None = None) -> int:
    """Give every in-progress inpatient encounter of a demo ward without an open stay a free bed of its ward
    from its start; return how many stays were made. An encounter whose ward has no bed free since its
    start stays unplaced (it waits for a bed, as real patients do)."""
    now = now or timezone.now()
    rng = random.Random(seed * 104729)
    wards = list(Ward.objects.filter(code__in=[spec.code for spec in WARDS]).order_by("code"))
    if not wards:
        return 0
    open_stay = BedStay.objects.filter(encounter=OuterRef("pk"), period__endswith__isnull=True)
    encounters = list(
        Encounter.objects.filter(encounter_class="inpatient", status="in_progress", ward__in=wards)
        .exclude(Exists(open_stay))
        .select_related("patient")
        .order_by("started_at", "id")
    )
    states = bed_states(wards=wards, at=now)
    # A bed whose last stay ended after an encounter began cannot take that encounter from its start.
    busy_until = dict(
        BedStay.objects.filter(bed__ward__in=wards)
        .values("bed_id")
        .annotate(last=Max(Upper("period")))
        .values_list("bed_id", "last")
    )
    free: dict[int, list[Bed]] = {ward.pk: [] for ward in wards}
    for state in states.values():
        if state.state == FREE:
            free[state.bed.ward_id].append(state.bed)
    for beds in free.values():
        rng.shuffle(beds)

    stays, events = [], []
    for encounter in encounters:
        if encounter.attending_id is None:
            continue
        assert encounter.ward_id is not None  # the query keeps encounters on the demo wards only
        candidates = free[encounter.ward_id]
        chosen = next(
            (b for b in candidates if busy_until.get(b.pk) is None or busy_until[b.pk] <= encounter.started_at), None
        )
        if chosen is None:
            continue
        candidates.remove(chosen)
        expected = max(timezone.localdate(encounter.started_at) + timedelta(days=rng.randint(3, 10)),
                       timezone.localdate(now))  # fmt: skip
        stays.append(
            BedStay(
                bed=chosen, encounter=encounter, period=DateTimeTZRange(encounter.started_at, None),
                expected_discharge_on=expected, started_by_id=encounter.attending_id,
            )
        )  # fmt: skip
        events.append(
            AdtEvent(
                event_type=AdtEvent.EventType.ADMIT, encounter=encounter, patient=encounter.patient, to_bed=chosen,
                occurred_at=encounter.started_at, recorded_by_id=encounter.attending_id,
            )
        )  # fmt: skip
    BedStay.objects.bulk_create(stays)
    AdtEvent.objects.bulk_create(events)
    _housekeeping_and_blocks(wards=wards, free=free, rng=rng, now=now)
    if stays:
        access_log_record(
            actor=None, action="create", object_type="scheduling.bedstay", purpose=SEED_PURPOSE,
            detail={"stays": len(stays)},
        )  # fmt: skip
    return len(stays)


def _housekeeping_and_blocks(*, wards: list[Ward], free: dict[int, list[Bed]], rng: random.Random, now) -> None:
    if (
        BedCleaning.objects.filter(bed__ward__in=wards).exists()
        or BedBlock.objects.filter(bed__ward__in=wards).exists()
    ):
        return
    user = _system_user()
    if user is None:
        return
    cleanings = []
    for ward in wards:
        # Some within the ward's turnaround target, some overdue.
        for bed in free[ward.pk][: rng.randint(0, 2)]:
            minutes = rng.randint(10, ward.turnaround_target_minutes * 2)
            cleanings.append(BedCleaning(bed=bed, requested_at=now - timedelta(minutes=minutes)))
            free[ward.pk].remove(bed)
    BedCleaning.objects.bulk_create(cleanings)
    spare = [bed for ward in wards for bed in free[ward.pk]]
    blocks = []
    for (reason, since, duration), bed in zip(BLOCK_REASONS, rng.sample(spare, min(len(spare), 2)), strict=False):
        start = now - since
        blocks.append(
            BedBlock(
                bed=bed, reason=reason, created_by=user,
                period=DateTimeTZRange(start, start + duration if duration else None),
            )
        )  # fmt: skip
    BedBlock.objects.bulk_create(blocks)
