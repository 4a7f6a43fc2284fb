"""Merging a duplicate registration into the surviving patient, and reversing that merge.

What moves: every row of every model that references the duplicate through a foreign key to Patient
(found from Patient's reverse relations, hidden ones included, so a model added later moves too without a
change here), except the references listed in MERGE_KEEPS:

- the merge records themselves (PatientMerge.survivor / duplicate) and Patient.merged_into, which ARE the
  merge bookkeeping (a registration merged earlier into the duplicate keeps pointing at it; see
  `emr.selectors.patients.patient_identity_ids`, which follows such chains);
- break-the-glass grants (BreakGlassAccess.patient): they record which record a user opened in an
  emergency and are reviewed as such; moving one would both rewrite that audit fact and widen the grant
  to the survivor's whole record.

Clinical notes move like everything else, so the survivor's chart is complete. A signed note never
changes: the database refuses any UPDATE of a signed emr_clinicalnote row, except inside a transaction
that declared itself a patient merge (`set_config('emr.patient_merge', 'on', true)`) and an UPDATE that
changes nothing but patient_id (migration emr 0004). The merge and its reversal declare that, for their
own transaction only, and re-point rows with QuerySet.update(), which changes the foreign key and nothing
else (not even updated_at): a note's content, signature and versions stay exactly as they were.

Locking: both patient rows are locked FOR UPDATE in a fixed order (lower id first) so that two merges
of the same pair cannot deadlock; while they are held no other transaction can insert a row referencing
either patient (a foreign-key insert takes a KEY SHARE lock on the patient row, which FOR UPDATE blocks),
so the rows counted are exactly the rows moved. The merge record lists, per model and field, the ids it
moved; the reversal moves exactly those rows back (rows recorded on the survivor after the merge stay
there: nobody can know which registration they belonged to).
"""

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models.fields.reverse_related import ManyToOneRel
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import Patient, PatientMerge
from hospital.core import roles
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

# "app_label.model_name.field_name" of foreign keys to Patient that a merge leaves where they are (see above).
MERGE_KEEPS = frozenset(
    {
        "emr.patient.merged_into",
        "emr.patientmerge.survivor",
        "emr.patientmerge.duplicate",
        "emr.breakglassaccess.patient",
    }
)


def merge_allowed(user: User | None) -> bool:
    """Whether `user` may merge patients and reverse merges: administrators and superusers only."""
    return bool(user and user.is_authenticated and user.is_active and user.has_role(roles.ADMINISTRATOR))


def patient_references() -> list[models.ForeignKey]:
    """Every foreign key (or one-to-one) to Patient that a merge re-points, in a stable order.

    Hidden relations (related_name="+", the through tables of many-to-many fields) are included.
    """
    found: list[models.ForeignKey] = []
    for relation in Patient._meta.get_fields(include_hidden=True):
        # Only a foreign key or a one-to-one (reverse side: ManyToOneRel, OneToOneRel) is re-pointed row by row.
        if not isinstance(relation, ManyToOneRel):
            continue
        if not relation.auto_created or relation.concrete or not (relation.one_to_many or relation.one_to_one):
            continue
        fk = relation.field
        model = fk.model
        if model._meta.proxy or not model._meta.managed:
            continue
        if f"{model._meta.label_lower}.{fk.name}" in MERGE_KEEPS:
            continue
        found.append(fk)
    return sorted(found, key=lambda fk: (fk.model._meta.label_lower, fk.name))


def _lock_pair(first_id: int, second_id: int) -> dict[int, Patient]:
    # Fixed order, lower id first, so concurrent merges touching the same two patients cannot deadlock.
    locked = Patient.objects.select_for_update().filter(pk__in=[first_id, second_id]).order_by("pk")
    return {patient.pk: patient for patient in locked}


def _declare_patient_merge() -> None:
    # Lets this transaction (and only it) re-point signed notes; see the module docstring.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('emr.patient_merge', 'on', true)")


def _require_admin(user: User) -> None:
    if not merge_allowed(user):
        raise PermissionDenied(_("Only an administrator may merge patients or reverse a merge."))


@transaction.atomic
def patient_merge(*, survivor: Patient, duplicate: Patient, reason: str, performed_by: User) -> PatientMerge:
    """Merge `duplicate` into `survivor`: re-point the duplicate's records, deactivate it, record the merge.

    Guarantees: only administrators and superusers (PermissionDenied otherwise, before anything is read);
    a stated reason, two different patients, both active (ValidationError otherwise, nothing written).
    In one transaction, with both patient rows locked: every reference outside MERGE_KEEPS moves to the
    survivor and its ids are recorded per model and field in PatientMerge.moved; the duplicate becomes
    inactive with merged_into = survivor; one "write" access-log entry for each patient (the merge's
    external id, the patient's role in it, and how many rows moved).
    """
    _require_admin(performed_by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("State why these registrations are the same person.")})
    if survivor.pk == duplicate.pk:
        raise ValidationError({"duplicate": _("A patient cannot be merged into itself.")})
    locked = _lock_pair(survivor.pk, duplicate.pk)
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if not survivor.is_active:
        raise ValidationError({"survivor": _("The surviving patient was itself merged away or is inactive.")})
    if not duplicate.is_active:
        raise ValidationError({"duplicate": _("This patient was already merged or is inactive.")})

    _declare_patient_merge()
    moved: dict[str, dict[str, list[int]]] = {}
    for fk in patient_references():
        rows = fk.model._base_manager.filter(**{fk.attname: duplicate.pk})
        ids = sorted(rows.values_list("pk", flat=True))
        if not ids:
            continue
        fk.model._base_manager.filter(pk__in=ids).update(**{fk.attname: survivor.pk})
        moved.setdefault(fk.model._meta.label_lower, {})[fk.name] = ids

    duplicate.is_active = False
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["is_active", "merged_into", "updated_at"])
    merge = PatientMerge(survivor=survivor, duplicate=duplicate, reason=reason, moved=moved, performed_by=performed_by)
    merge.full_clean(exclude=["moved"])  # a duplicate without any records moves nothing: {} is a valid record
    merge.save()
    count = sum(len(ids) for fields in moved.values() for ids in fields.values())
    for patient, role in ((survivor, "survivor"), (duplicate, "duplicate")):
        access_log_record(
            actor=performed_by,
            action="write",
            object_type="emr.patientmerge",
            object_id=str(merge.external_id),
            patient_external_id=patient.external_id,
            detail={"merge": role, "rows_moved": count},
        )
    return merge


@transaction.atomic
def patient_merge_reverse(*, merge: PatientMerge, reversed_by: User) -> PatientMerge:
    """Undo `merge`: move exactly the rows it moved back to the duplicate and reactivate the duplicate.

    Guarantees: only administrators and superusers (PermissionDenied); a merge is reversed at most once, and
    only while the survivor is still active (a later merge of the survivor must be reversed first) —
    ValidationError otherwise, nothing written. Rows the merge moved that have since been deleted or moved
    elsewhere are left alone. One "write" access-log entry for each patient.
    """
    _require_admin(reversed_by)
    merge = PatientMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.reversed_at is not None:
        raise ValidationError(_("This merge was already reversed."))
    locked = _lock_pair(merge.survivor_id, merge.duplicate_id)
    survivor, duplicate = locked[merge.survivor_id], locked[merge.duplicate_id]
    if not survivor.is_active:
        raise ValidationError(_("The surviving patient was merged again since; reverse that merge first."))
    if duplicate.merged_into_id != survivor.pk:
        raise ValidationError(_("The duplicate is no longer merged into the survivor."))

    _declare_patient_merge()
    returned = 0
    for label, fields in merge.moved.items():
        model = apps.get_model(label)
        for field_name, ids in fields.items():
            attname = model._meta.get_field(field_name).attname
            returned += model._base_manager.filter(pk__in=ids, **{attname: survivor.pk}).update(
                **{attname: duplicate.pk}
            )

    duplicate.is_active = True
    duplicate.merged_into = None
    duplicate.save(update_fields=["is_active", "merged_into", "updated_at"])
    merge.reversed_at = timezone.now()
    merge.reversed_by = reversed_by
    merge.save(update_fields=["reversed_at", "reversed_by", "updated_at"])
    for patient, role in ((survivor, "survivor"), (duplicate, "duplicate")):
        access_log_record(
            actor=reversed_by,
            action="write",
            object_type="emr.patientmerge",
            object_id=str(merge.external_id),
            patient_external_id=patient.external_id,
            detail={"merge_reversed": role, "rows_returned": returned},
        )
    return merge
