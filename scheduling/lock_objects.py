"""Row locks of the ADT services, always taken in one order: the encounter, then beds in id order.

Every write to bed stays locks the encounter it concerns first and then the beds it touches, lowest id
first. Two writers therefore wait for each other instead of deadlocking, and a writer that holds the
locks sees every stay committed before it (READ COMMITTED takes a fresh snapshot after the wait):
two admissions to one bed, or a transfer and a discharge of one encounter, run one after the other.
"""

from collections.abc import Iterable

from emr.models import Encounter
from scheduling.models import Bed


def encounter_lock(*, encounter_id: int) -> Encounter:
    """Lock the encounter row (FOR UPDATE, this row only) and return it fresh with its patient."""
    return Encounter.objects.select_for_update(of=("self",)).select_related("patient").get(pk=encounter_id)


def beds_lock(*, bed_ids: Iterable[int]) -> dict[int, Bed]:
    """Lock the bed rows in id order (FOR UPDATE, beds only) and return them fresh, by id, with their ward."""
    ids = sorted(set(bed_ids))
    beds = Bed.objects.select_for_update(of=("self",)).select_related("ward").filter(pk__in=ids).order_by("pk")
    return {bed.pk: bed for bed in beds}


def bed_lock(*, bed_id: int) -> Bed:
    """Lock one bed row; see beds_lock."""
    return beds_lock(bed_ids=[bed_id])[bed_id]
