"""Registering patients and changing their demographics. Every write of patient data leaves an access-log entry.

Identifiers are normalised before they are stored (and so before they are encrypted and blind-indexed):

- national ID: full-width characters folded (NFKC), spaces and dashes dropped, letters upper-cased. An
  18-character value whose first 17 characters are digits is a Chinese resident identity card number
  (GB 11643): its last character must be the ISO 7064 MOD 11-2 check character and its birth-date part
  must equal the patient's birth date. Anything else (passports, other countries' numbers) is accepted
  as letters and digits up to 40 characters.
- phone: separators (spaces, dashes, dots, brackets) dropped; an optional leading "+" and 6 to 20 digits.
- insurance number: folded and trimmed, letters, digits, dashes and slashes, up to 60 characters.
- e-mail: Django's e-mail validation, domain lower-cased. Address: trimmed text up to 400 characters.
A blank value means "not recorded" and is stored as NULL.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import Patient
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# ISO 7064 MOD 11-2 as used by GB 11643-1999: weights of the first 17 digits and the check character.
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"
_CN_ID_SHAPE = re.compile(r"\d{17}[0-9X]")
_ID_SEPARATORS = re.compile(r"[\s\-_./]+")
_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]+")
_PHONE = re.compile(r"\+?\d{6,20}")
_INSURANCE = re.compile(r"[0-9A-Z][0-9A-Z\-/]*")

IDENTIFIER_FIELDS = ("national_id", "phone", "insurance_number", "address", "email")
DEMOGRAPHIC_FIELDS = ("family_name", "given_name", "sex", "birth_date", "allergy_status", *IDENTIFIER_FIELDS)


@dataclass(frozen=True)
class PatientData:
    """One patient of a bulk import."""

    family_name: str
    given_name: str
    sex: str
    birth_date: date
    allergy_status: str = Patient.AllergyStatus.UNKNOWN


# --- normalisation and validation ----------------------------------------------------------------------


def _fold(value: str | None) -> str | None:
    """NFKC-folded and trimmed text; None for None or blank (full-width digits from Chinese input become ASCII)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError
    folded = unicodedata.normalize("NFKC", value).strip()
    return folded or None


def cn_resident_id_check_character(first_17_digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a Chinese resident ID's first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17_digits, _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11]


def looks_like_cn_resident_id(value: str) -> bool:
    """Whether a normalised national ID has the shape of a Chinese resident ID (18 characters, 17 digits first)."""
    return len(value) == 18 and value[:17].isdigit()


def national_id_normalize(value: str | None, *, birth_date: date | None) -> str | None:
    """The national ID as stored, or ValidationError; see the module docstring for the rules."""
    folded = _fold(value)
    if folded is None:
        return None
    normalized = _ID_SEPARATORS.sub("", folded).upper()
    if looks_like_cn_resident_id(normalized):
        if not _CN_ID_SHAPE.fullmatch(normalized) or cn_resident_id_check_character(normalized[:17]) != normalized[17]:
            raise ValidationError(_("This resident ID number is not valid: its check character does not match."))
        try:
            id_birth_date = date(int(normalized[6:10]), int(normalized[10:12]), int(normalized[12:14]))
        except ValueError:
            raise ValidationError(_("This resident ID number contains an impossible birth date.")) from None
        if birth_date is not None and id_birth_date != birth_date:
            raise ValidationError(_("The birth date in this resident ID number differs from the patient's birth date."))
        return normalized
    if len(normalized) > 40 or not normalized.isalnum() or not normalized.isascii():
        raise ValidationError(_("Enter an ID number of letters and digits, at most 40 characters."))
    return normalized


def phone_normalize(value: str | None) -> str | None:
    """The phone number as stored ("+" and digits only), or ValidationError."""
    folded = _fold(value)
    if folded is None:
        return None
    normalized = _PHONE_SEPARATORS.sub("", folded)
    if not _PHONE.fullmatch(normalized) or not normalized.isascii():
        raise ValidationError(_("Enter a phone number of 6 to 20 digits, optionally starting with +."))
    return normalized


def insurance_number_normalize(value: str | None) -> str | None:
    """The insurance number as stored, or ValidationError."""
    folded = _fold(value)
    if folded is None:
        return None
    normalized = re.sub(r"\s+", "", folded).upper()
    if len(normalized) > 60 or not _INSURANCE.fullmatch(normalized) or not normalized.isascii():
        raise ValidationError(_("Enter an insurance number of letters, digits, dashes and slashes, at most 60."))
    return normalized


def email_normalize(value: str | None) -> str | None:
    """The e-mail address as stored (domain lower-cased), or ValidationError."""
    folded = _fold(value)
    if folded is None:
        return None
    validate_email(folded)
    local, _at, domain = folded.rpartition("@")
    return f"{local}@{domain.lower()}"


def address_normalize(value: str | None) -> str | None:
    """The address as stored: folded, inner runs of whitespace collapsed (the field's length is checked later)."""
    folded = _fold(value)
    return None if folded is None else re.sub(r"\s+", " ", folded)


def identifiers_normalize(values: dict, *, birth_date: date | None) -> dict:
    """Normalise the identifier fields present in `values`; ValidationError with every field's error at once."""
    normalizers = {
        "national_id": lambda v: national_id_normalize(v, birth_date=birth_date),
        "phone": phone_normalize,
        "insurance_number": insurance_number_normalize,
        "email": email_normalize,
        "address": address_normalize,
    }
    result, errors = {}, {}
    for name, normalize in normalizers.items():
        if name not in values:
            continue
        try:
            result[name] = normalize(values[name])
        except ValidationError as exc:
            errors[name] = exc.messages
        except TypeError:
            errors[name] = [_("Enter text.")]
    if errors:
        raise ValidationError(errors)
    return result


def _birth_date_validate(birth_date: date) -> None:
    # "Today" is the hospital's calendar day (TIME_ZONE), not UTC's.
    if birth_date > timezone.localdate():
        raise ValidationError({"birth_date": _("The birth date cannot be in the future.")})
    if birth_date < EARLIEST_BIRTH_DATE:
        raise ValidationError({"birth_date": _("The birth date cannot be before 1900.")})


def _patient_validate(patient: Patient) -> None:
    # full_clean first, so a wrong type is reported as a field error before the date comparison runs.
    # The MRN is left out: checking its uniqueness would evaluate its default and burn a sequence number.
    patient.full_clean(exclude=["mrn"])
    _birth_date_validate(patient.birth_date)


def _birth_date_or_none(value) -> date | None:
    return value if isinstance(value, date) else None


def _patient_build(
    *,
    family_name: str,
    given_name: str,
    sex: str,
    birth_date: date,
    allergy_status: str,
    identifiers: dict | None = None,
) -> Patient:
    normalized = identifiers_normalize(identifiers or {}, birth_date=_birth_date_or_none(birth_date))
    patient = Patient(
        family_name=family_name.strip() if isinstance(family_name, str) else family_name,
        given_name=given_name.strip() if isinstance(given_name, str) else given_name,
        sex=sex,
        birth_date=birth_date,
        allergy_status=allergy_status,
        **normalized,
    )
    _patient_validate(patient)
    return patient


# --- services ---------------------------------------------------------------------------------------------


@transaction.atomic
def patient_create(
    *,
    family_name: str,
    given_name: str,
    sex: str,
    birth_date: date,
    created_by: User,
    allergy_status: str = Patient.AllergyStatus.UNKNOWN,
    national_id: str | None = None,
    phone: str | None = None,
    insurance_number: str | None = None,
    address: str | None = None,
    email: str | None = None,
) -> Patient:
    """Register a patient; the database assigns the MRN.

    Guarantees: names, sex and birth date are valid and the birth date is neither in the future nor before
    1900; identifiers are normalised and validated as the module docstring says (a Chinese resident ID
    with a wrong check character or another birth date is refused); otherwise ValidationError with field
    errors and nothing is written. Identifiers are stored encrypted with their blind indexes. The patient
    row and its "create" access-log entry are written together or not at all. The allergy status defaults
    to "unknown (not asked)". Duplicate detection is the caller's step before this one
    (emr.selectors.patients.patient_duplicate_candidates): registering the same person twice is allowed
    once a user has confirmed they are different people.
    """
    patient = _patient_build(
        family_name=family_name,
        given_name=given_name,
        sex=sex,
        birth_date=birth_date,
        allergy_status=allergy_status,
        identifiers={
            "national_id": national_id,
            "phone": phone,
            "insurance_number": insurance_number,
            "address": address,
            "email": email,
        },
    )
    patient.save()
    access_log_record(
        actor=created_by,
        action="create",
        object_type="emr.patient",
        object_id=str(patient.external_id),
        patient_external_id=patient.external_id,
    )
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, updated_by: User, **changes) -> Patient:
    """Change a patient's demographics: any of DEMOGRAPHIC_FIELDS, given as keyword arguments.

    The row is locked and re-read first, so concurrent updates apply one after the other. Identifiers are
    normalised and validated like at registration, against the birth date the patient will have after the
    change (changing the birth date alone re-checks a stored Chinese resident ID). Merged-away patients
    cannot be changed. Guarantees: ValidationError with field errors and nothing written on bad input;
    otherwise one "write" access-log entry naming the changed fields (never their values). A call that
    changes nothing writes nothing and logs nothing. Returns the updated patient.
    """
    unknown = sorted(set(changes) - set(DEMOGRAPHIC_FIELDS))
    if unknown:
        raise TypeError(f"patient_update() got unexpected fields: {', '.join(unknown)}")
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if not locked.is_active:
        raise ValidationError(_("This patient was merged into another record and can no longer be changed."))
    birth_date = changes.get("birth_date", locked.birth_date)
    identifier_changes = {name: value for name, value in changes.items() if name in IDENTIFIER_FIELDS}
    if "birth_date" in changes and "national_id" not in changes and locked.national_id:
        identifier_changes["national_id"] = locked.national_id  # the stored ID must still match the new birth date
    normalized = identifiers_normalize(identifier_changes, birth_date=_birth_date_or_none(birth_date))
    values = {name: value for name, value in changes.items() if name not in IDENTIFIER_FIELDS}
    for name in ("family_name", "given_name"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()
    values.update(normalized)
    changed = sorted(name for name, value in values.items() if getattr(locked, name) != value)
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, values[name])
    _patient_validate(locked)
    locked.save(update_fields=[*changed, "updated_at"])
    access_log_record(
        actor=updated_by,
        action="write",
        object_type="emr.patient",
        object_id=str(locked.external_id),
        patient_external_id=locked.external_id,
        detail={"fields": changed},
    )
    return locked


@transaction.atomic
def patient_bulk_import(*, patients: Sequence[PatientData], actor: User | None, purpose: str) -> list[Patient]:
    """Register many patients at once (data migration from another system, the demo hospital).

    Every patient is validated as in `patient_create`; if one is invalid nothing is written. A bulk import
    is one action, so it writes ONE "create" access-log entry with detail {"patients": n}, not one per row;
    `actor` None means the system itself. Importing an empty list writes nothing and logs nothing.
    """
    built = [
        _patient_build(
            family_name=row.family_name,
            given_name=row.given_name,
            sex=row.sex,
            birth_date=row.birth_date,
            allergy_status=row.allergy_status,
        )
        for row in patients
    ]
    if not built:
        return []
    created = Patient.objects.bulk_create(built, batch_size=500)
    access_log_record(
        actor=actor,
        action="create",
        object_type="emr.patient",
        purpose=purpose,
        detail={"patients": len(created)},
    )
    return created
