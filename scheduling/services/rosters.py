"""Writes of the scheduling app."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hospital.core.models import User
from scheduling.models import Ward, WardAssignment


@transaction.atomic
def ward_assignment_create(
    *, ward: Ward, user: User, role: str, starts_on: date, ends_on: date | None = None
) -> WardAssignment:
    """Assign a staff member to a ward from `starts_on` to `ends_on` (open-ended when None).

    Ward staff treat the ward's inpatients: while the assignment is current, the EMR opens the records
    of the ward's in-progress inpatient encounters to the user (emr.selectors.access).
    Guarantees: valid role, ends_on not before starts_on, one assignment per ward, user and start day
    (ValidationError with field errors otherwise; nothing is written).
    """
    assignment = WardAssignment(ward=ward, user=user, role=role, starts_on=starts_on, ends_on=ends_on)
    assignment.full_clean(exclude=["created_at", "updated_at"])
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:  # the same assignment created concurrently
        raise ValidationError({"starts_on": _("This person is already assigned to this ward from that day.")}) from exc
    return assignment
