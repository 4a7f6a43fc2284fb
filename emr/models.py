"""Patients. Encounters, notes and the rest of the record build on this model."""

import re

from django.db import models
from django.db.models import Func, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils.translation import gettext_lazy as _

from hospital.core.models import BaseModel

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


class Patient(BaseModel):
    """A person who receives care, identified inside the hospital by a medical record number (MRN).

    The MRN is assigned by the database from a sequence ("MRN" + 8 digits) and never changes.
    Identifiers that single out a person (national ID, phone, address) are deliberately absent here;
    they arrive as encrypted fields with a blind index.
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

    class Meta(BaseModel.Meta):
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [models.Index(fields=["family_name", "given_name"], name="emr_patient_name_idx")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        """The name in its own convention: 张伟 (family first, no space), Anna Smith (given first)."""
        if _HAN.search(self.family_name + self.given_name):
            return f"{self.family_name}{self.given_name}"
        return f"{self.given_name} {self.family_name}".strip()
