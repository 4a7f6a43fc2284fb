"""Writes to the formulary: syncing reference rows (the seed, a hospital's CSV) into pharmacy.Drug."""

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from pharmacy.models import Drug

# The route codes of emr.models.MedicationOrder.Route (a test keeps the two equal); repeated here
# because the formulary must not import the EMR, which depends on it.
ROUTES = ("oral", "iv", "im", "sc", "inhaled", "topical", "rectal", "sublingual", "other")

# Same pattern as the database constraint pharmacy_drug_atc_format: level 1 to level 5 codes.
ATC_PATTERN = re.compile(r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")

KEY_FIELDS = ("generic_name_en", "form", "strength")
# high_alert, synonyms and is_active may be left out of a row: the stored value (or, for a new drug,
# the model default) then stays.
VALUE_FIELDS = ("generic_name_zh", "route", "atc_code", "high_alert", "synonyms", "is_active")

CSV_REQUIRED_COLUMNS = ("generic_name_en", "generic_name_zh", "form", "strength", "route", "atc_code")
CSV_OPTIONAL_COLUMNS = ("high_alert", "synonyms", "is_active")
CSV_SYNONYM_SEPARATOR = "|"

_TRUE = {"true", "t", "yes", "y", "1", "是"}
_FALSE = {"false", "f", "no", "n", "0", "否"}


@dataclass(frozen=True)
class FormularySyncResult:
    created: int
    updated: int
    unchanged: int


def _text(value: Any) -> str:
    # NFKC folds full-width letters, digits and spaces (common in Chinese input) into their plain forms.
    return " ".join(unicodedata.normalize("NFKC", str(value if value is not None else "")).split())


def _boolean(value: Any, field: str, errors: dict[str, list[str]]) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text == "":
        return field == "is_active"  # a blank cell: active, not high-alert
    if text in _FALSE:
        return False
    errors.setdefault(field, []).append(_("“%(value)s” is not yes or no.") % {"value": value})
    return None


def formulary_row_clean(row: Mapping[str, Any], *, drug_model=Drug) -> dict[str, Any]:
    """Normalise and validate one formulary row (a mapping of Drug field names to values).

    Every field but high_alert, synonyms and is_active is required. Returns the cleaned row (names
    and strength with single spaces, form and route as lower-case codes, the ATC code upper-case,
    synonyms as a de-duplicated list). Raises ValidationError with a dict of field errors. Form
    labels ("Tablet") are accepted for codes.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    form_field = drug_model._meta.get_field("form")
    form_codes = {str(value): str(value) for value, _label in form_field.choices}
    form_codes.update({str(label).lower(): str(value) for value, label in form_field.choices})
    limits = {
        name: drug_model._meta.get_field(name).max_length
        for name in ("generic_name_en", "generic_name_zh", "strength", "route", "atc_code")
    }

    for name in ("generic_name_en", "generic_name_zh", "strength"):
        value = _text(row.get(name))
        if not value:
            errors.setdefault(name, []).append(_("This field is required."))
        elif len(value) > limits[name]:
            errors.setdefault(name, []).append(_("At most %(limit)d characters.") % {"limit": limits[name]})
        cleaned[name] = value

    form = _text(row.get("form")).lower()
    if form not in form_codes:
        errors.setdefault("form", []).append(
            _("“%(value)s” is not a form; use one of: %(choices)s.")
            % {"value": row.get("form") or "", "choices": ", ".join(value for value, _label in form_field.choices)}
        )
    cleaned["form"] = form_codes.get(form, form)

    route = _text(row.get("route")).lower()
    if route not in ROUTES:
        errors.setdefault("route", []).append(
            _("“%(value)s” is not a route; use one of: %(choices)s.")
            % {"value": row.get("route") or "", "choices": ", ".join(ROUTES)}
        )
    cleaned["route"] = route

    atc_code = _text(row.get("atc_code")).upper().replace(" ", "")
    if not ATC_PATTERN.match(atc_code):
        errors.setdefault("atc_code", []).append(
            _("“%(value)s” is not an ATC code (such as J01CA04).") % {"value": row.get("atc_code") or ""}
        )
    cleaned["atc_code"] = atc_code

    for name in ("high_alert", "is_active"):
        if name in row:
            cleaned[name] = _boolean(row[name], name, errors)

    if "synonyms" in row:
        raw = row.get("synonyms") or ()
        if isinstance(raw, str):
            raw = raw.split(CSV_SYNONYM_SEPARATOR)
        synonyms: list[str] = []
        for item in raw:
            synonym = _text(item)
            if len(synonym) > 100:
                errors.setdefault("synonyms", []).append(
                    _("“%(value)s…” is longer than 100 characters.") % {"value": synonym[:20]}
                )
            elif synonym and synonym.casefold() not in {s.casefold() for s in synonyms}:
                synonyms.append(synonym)
        cleaned["synonyms"] = synonyms

    if errors:
        raise ValidationError(errors)
    return cleaned


def _key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    # Matching ignores case so that a hospital's "amoxicillin 500 MG" updates the seed's "Amoxicillin 500 mg".
    return (row["generic_name_en"].casefold(), row["form"], row["strength"].casefold())


def _rows_clean(labelled_rows: Iterable[tuple[str, Mapping[str, Any]]], *, drug_model) -> list[dict[str, Any]]:
    """Clean every row, then raise one ValidationError listing every problem as "<label>: <field>: <message>"."""
    cleaned_rows: list[dict[str, Any]] = []
    messages: list[str] = []
    first_label: dict[tuple[str, str, str], str] = {}
    for label, row in labelled_rows:
        try:
            cleaned = formulary_row_clean(row, drug_model=drug_model)
        except ValidationError as exc:
            for field, field_messages in exc.message_dict.items():
                messages.extend(f"{label}: {field}: {message}" for message in field_messages)
            continue
        key = _key(cleaned)
        if key in first_label:
            duplicate = _("%(label)s: the same drug, form and strength as %(first)s.")
            messages.append(duplicate % {"label": label, "first": first_label[key]})
            continue
        first_label[key] = label
        cleaned_rows.append(cleaned)
    if messages:
        raise ValidationError(messages)
    return cleaned_rows


def _sync_cleaned(rows: list[dict[str, Any]], *, drug_model, using: str) -> FormularySyncResult:
    names = {row["generic_name_en"].casefold() for row in rows}
    existing = {
        _key({"generic_name_en": drug.generic_name_en, "form": drug.form, "strength": drug.strength}): drug
        for drug in drug_model.objects.using(using)
        .select_for_update()
        .annotate(name_key=Lower("generic_name_en"))
        .filter(name_key__in=names)
    }
    to_create, to_update, unchanged = [], [], 0
    changed_fields: set[str] = set()
    for row in rows:
        drug = existing.get(_key(row))
        if drug is None:
            to_create.append(drug_model(**row))
            continue
        changes = {name: row[name] for name in VALUE_FIELDS if name in row and getattr(drug, name) != row[name]}
        if not changes:
            unchanged += 1
            continue
        for name, value in changes.items():
            setattr(drug, name, value)
        changed_fields.update(changes)
        to_update.append(drug)
    if to_create:
        drug_model.objects.using(using).bulk_create(to_create)
    if to_update:
        # bulk_update does not run auto_now; set updated_at so "changed since" queries see these rows.
        now = timezone.now()
        for drug in to_update:
            drug.updated_at = now
        drug_model.objects.using(using).bulk_update(to_update, [*sorted(changed_fields), "updated_at"])
    return FormularySyncResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)


def formulary_sync(
    *, rows: Iterable[Mapping[str, Any]], drug_model=None, using: str = DEFAULT_DB_ALIAS
) -> FormularySyncResult:
    """Create or update formulary drugs from reference rows, matched on (English name, form, strength).

    Idempotent: a second call with the same rows writes nothing and reports every row unchanged.
    Matching ignores the case of the name and strength. A field a row leaves out keeps its stored
    value (the seed leaves out is_active, so re-syncing it never re-activates a drug the hospital
    retired). All or nothing: any invalid row raises ValidationError naming "row N" and writes
    nothing. Drugs absent from `rows` are left alone. `drug_model` lets a data migration pass its
    historical model.
    """
    drug_model = drug_model or Drug
    labelled = ((_("row %(number)d") % {"number": number}, row) for number, row in enumerate(rows, 1))
    cleaned = _rows_clean(labelled, drug_model=drug_model)
    with transaction.atomic(using=using):
        return _sync_cleaned(cleaned, drug_model=drug_model, using=using)


def formulary_seed_sync(*, drug_model=None, using: str = DEFAULT_DB_ALIAS) -> FormularySyncResult:
    """Sync the built-in essential medicines (pharmacy.formulary_data) into the formulary."""
    from pharmacy.formulary_data import ESSENTIAL_MEDICINES, FIELDS

    rows = (dict(zip(FIELDS, row, strict=True)) for row in ESSENTIAL_MEDICINES)
    return formulary_sync(rows=rows, drug_model=drug_model, using=using)


def formulary_csv_load(*, stream: TextIO) -> FormularySyncResult:
    """Load a hospital's own formulary from CSV text, all or nothing.

    Columns (first line, any order): generic_name_en, generic_name_zh, form, strength, route,
    atc_code are required; high_alert (yes/no, true/false, 1/0, 是/否; blank = no), synonyms
    (separated by "|"), is_active (blank = yes) are optional: a column left out keeps the stored
    value of existing drugs. Raises ValidationError listing every problem as "line N: field: message"
    (line numbers of the file, header = line 1); nothing is written unless every line is valid.
    """
    reader = csv.DictReader(stream, restval="")
    header = [_text(name).lower() for name in (reader.fieldnames or [])]
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in (*CSV_REQUIRED_COLUMNS, *CSV_OPTIONAL_COLUMNS)]
    problems = []
    if missing:
        problems.append(_("line 1: missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if unknown:
        problems.append(_("line 1: unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})
    if problems:
        raise ValidationError(problems)
    reader.fieldnames = header

    labelled: list[tuple[str, dict[str, Any]]] = []
    extra_cells: list[str] = []
    for record in reader:
        label = _("line %(number)d") % {"number": reader.line_num}
        if None in record:
            extra_cells.append(_("%(label)s: more cells than columns.") % {"label": label})
            continue
        if not any(_text(value) for value in record.values()):
            continue  # blank lines, often at the end of a spreadsheet export
        labelled.append((label, record))
    if not labelled and not extra_cells:
        raise ValidationError(_("The file has no drugs."))
    try:
        cleaned = _rows_clean(labelled, drug_model=Drug)
    except ValidationError as exc:
        raise ValidationError([*extra_cells, *exc.messages]) from exc
    if extra_cells:
        raise ValidationError(extra_cells)
    with transaction.atomic():
        return _sync_cleaned(cleaned, drug_model=Drug, using=DEFAULT_DB_ALIAS)


@transaction.atomic
def drug_active_set(*, drug_ids: Iterable[int], is_active: bool) -> int:
    """Retire (or bring back) formulary drugs; returns how many changed.

    Retiring instead of deleting keeps the drugs that old orders and allergies point at.
    """
    return (
        Drug.objects.filter(pk__in=list(drug_ids))
        .exclude(is_active=is_active)
        .update(is_active=is_active, updated_at=timezone.now())
    )
