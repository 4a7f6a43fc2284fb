"""Patients, their encrypted identifiers, and merges of duplicate registrations."""

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils.translation import gettext_lazy as _

from hospital.core.fields import BlindIndexField, EncryptedTextField, normalize_identifier
from hospital.core.models import BaseModel

if TYPE_CHECKING:
    from emr.models.encounters import Encounter

MRN_SEQUENCE = "emr_patient_mrn_seq"
MRN_PREFIX = "MRN"
MRN_DIGITS = 8

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _mrn_default():
    # 'MRN' || lpad(nextval(seq)::text, 8, '0'), evaluated by PostgreSQL on insert: numbers are unique
    # without a retry loop, also for bulk inserts. The sequence stops at 99999999 rather than lpad
    # silently truncating a ninth digit.
    next_number = Func(Value(MRN_SEQUENCE), function="nextval", output_field=models.BigIntegerField())
    return Concat(
        Value(MRN_PREFIX),
        LPad(Cast(next_number, models.TextField()), MRN_DIGITS, Value("0")),
        output_field=models.CharField(),
    )


class PatientNameKey(Func):
    """`family_name || ' ' || given_name`: the expression the name search's trigram (GiST) index is built on.

    Queries must use this same expression for PostgreSQL to answer them from the index, including
    nearest-first ordering by trigram (word) distance. The index is created in SQL (migration 0005):
    Django's index expressions would wrap the operator class in parentheses PostgreSQL refuses.
    """

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = models.TextField()

    def __init__(self, **extra):
        super().__init__(F("family_name"), F("given_name"), **extra)


class Patient(BaseModel):
    """A person who receives care, identified inside the hospital by a medical record number (MRN).

    The MRN is assigned by the database from a sequence ("MRN" + 8 digits) and never changes.
    Identifiers that single out a person (national ID, phone, address, e-mail, insurance number) are
    stored AES-256-GCM encrypted; national ID, phone and insurance number are findable by exact match
    through their keyed blind indexes. A patient merged into another keeps its row (merged_into set,
    is_active false) so that the merge can be reversed.
    """

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class AllergyStatus(models.TextChoices):
        # "Unknown" (not asked yet) must never read as "no allergies": the two are different facts.
        UNKNOWN = "unknown", _("Unknown (not asked)")
        NO_KNOWN_ALLERGIES = "no_known_allergies", _("No known allergies")
        HAS_ALLERGIES = "has_allergies", _("Has allergies")

    mrn = models.CharField(_("MRN"), max_length=16, unique=True, editable=False, db_default=_mrn_default())
    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    allergy_status = models.CharField(
        _("allergy status"), max_length=20, choices=AllergyStatus.choices, default=AllergyStatus.UNKNOWN
    )
    national_id = EncryptedTextField(
        _("national ID"), null=True, blank=True, max_length=40, blind_index="national_id_index",
        normalizer=normalize_identifier, label="emr.patient.national_id",
    )  # fmt: skip
    national_id_index = BlindIndexField(null=True, blank=True)
    phone = EncryptedTextField(
        _("phone"), null=True, blank=True, max_length=40, blind_index="phone_index",
        normalizer=normalize_identifier, label="emr.patient.phone",
    )  # fmt: skip
    phone_index = BlindIndexField(null=True, blank=True)
    insurance_number = EncryptedTextField(
        _("insurance number"), null=True, blank=True, max_length=60, blind_index="insurance_number_index",
        normalizer=normalize_identifier, label="emr.patient.insurance_number",
    )  # fmt: skip
    insurance_number_index = BlindIndexField(null=True, blank=True)
    address = EncryptedTextField(_("address"), null=True, blank=True, max_length=400, label="emr.patient.address")
    email = EncryptedTextField(_("e-mail"), null=True, blank=True, max_length=254, label="emr.patient.email")
    is_active = models.BooleanField(_("active"), default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )

    # Not stored: the access selectors (emr.selectors.access) set it on the patient they return, True when
    # only a break-the-glass grant opened the record.
    via_break_glass: bool
    # Not stored: emr.selectors.patients.patients_under_care sets it (the newest in-progress encounter).
    current_encounter: "Encounter | None"

    class Meta(BaseModel.Meta):
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="emr_patient_name_idx"),
            models.Index(fields=["birth_date"], name="emr_patient_birth_date_idx"),
            GinIndex(fields=["family_name"], name="emr_patient_family_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["given_name"], name="emr_patient_given_trgm", opclasses=["gin_trgm_ops"]),
            # plus emr_patient_name_key_trgm, a GiST trigram index on PatientNameKey (migration 0005)
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(is_active=False),
                name="emr_patient_merged_is_inactive",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")), name="emr_patient_not_merged_into_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        """The name in its own convention: 张伟 (family first, no space), Anna Smith (given first)."""
        if _HAN.search(self.family_name + self.given_name):
            return f"{self.family_name}{self.given_name}"
        return f"{self.given_name} {self.family_name}".strip()


class PatientMerge(BaseModel):
    """A merge of a duplicate registration into the surviving patient, and what it moved.

    `moved` lists, per model, the ids of the rows re-pointed from the duplicate to the survivor, so an
    administrator can reverse exactly this merge. Merges and reversals are also in the access log.
    """

    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_survived")
    duplicate = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_absorbed")
    reason = models.TextField(_("reason"))
    moved = models.JSONField(_("moved records"), default=dict)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("patient merge")
        verbose_name_plural = _("patient merges")
        constraints = [
            models.CheckConstraint(condition=~models.Q(survivor=models.F("duplicate")), name="emr_merge_distinct"),
            models.CheckConstraint(
                condition=models.Q(reversed_at__isnull=True, reversed_by__isnull=True)
                | models.Q(reversed_at__isnull=False, reversed_by__isnull=False),
                name="emr_merge_reversal_complete",
            ),
        ]
