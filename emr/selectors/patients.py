"""Reads of patients: one patient, search, likely duplicates (a small master patient index), merged identities.

Reading a patient's record is itself recorded in the access log; a search logs one "search" entry with
the kind of query and the number of results, never the query text (it may be an ID number or a phone).

Names are compared with pg_trgm, which works for Chinese characters as for Latin letters (the
database's character classification treats Han characters as word characters). Search ranks patients by
trigram WORD distance between the query and "family given" (emr.models.PatientNameKey), nearest first,
straight from a GiST trigram index on that expression: word order does not matter, a prefix ("Smi") or a
name with one character wrong is close, and a Chinese name typed as one string is split after its surname
(one character, or two for a compound surname) to match the key. Identifiers go through the blind indexes.
Duplicate detection, which only looks at patients born on the same day (or sharing an identifier), scores
whole-name similarity on those few rows.
"""

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordDistance
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Max, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat, Greatest
from django.utils.translation import gettext as _

from emr.models import Encounter, Patient, PatientNameKey
from emr.selectors.access import (
    PURPOSE_CLINICAL,
    PURPOSE_METADATA,
    BreakGlassRequired,
    Purpose,
    patient_for_clinical_read,
    patient_for_metadata_read,
    patients_visible_to,
)
from emr.services.access import access_denied_record
from hospital.core import roles
from hospital.core.fields import blind_index_lookup, normalize_identifier
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

SEARCH_LIMIT_MAX = 100
# pg_trgm's own default for `%`; a three-character Chinese name with one character wrong scores 0.33.
NAME_SIMILARITY_THRESHOLD = 0.3
DUPLICATE_NAME_THRESHOLD = 0.3

SEARCH_KIND_MRN = "mrn"
SEARCH_KIND_IDENTIFIER = "identifier"
SEARCH_KIND_NAME = "name"

# Two-character Chinese surnames: "欧阳娜娜" is 欧阳 + 娜娜, not 欧 + 阳娜娜.
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙", "夏侯", "司徒", "公孙", "宇文"}
)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_MRN_QUERY = re.compile(r"MRN\s*(\d{0,8})", re.IGNORECASE)
_CN_MOBILE = re.compile(r"1\d{10}")
_CN_MOBILE_WITH_COUNTRY = re.compile(r"86(1\d{10})")


# --- one patient ------------------------------------------------------------------------------------------


def patient_get(*, external_id: uuid.UUID, fetched_by: User, purpose: Purpose = PURPOSE_CLINICAL) -> Patient:
    """The patient with this external id, as `fetched_by` may see it for `purpose`; the read is access-logged.

    Raises PermissionDenied when the user lacks emr.view_patient or a role that reads patients for this
    purpose (checked before the lookup, so the answer does not reveal whether the patient exists), and
    Patient.DoesNotExist for an unknown id. Scoping follows emr.selectors.access: a clinician who does
    not treat the patient gets BreakGlassRequired, and that refused attempt is itself logged (action
    "read", detail {"denied": true}) so auditors see who tried to open which record. A read opened only
    by a break-the-glass grant is logged with detail {"break_glass": true}; a metadata read (records
    archivists) with {"metadata_only": true}.
    """
    if not fetched_by.has_perm("emr.view_patient"):
        raise PermissionDenied
    read = patient_for_metadata_read if purpose == PURPOSE_METADATA else patient_for_clinical_read
    try:
        patient = read(user=fetched_by, external_id=external_id)
    except BreakGlassRequired as exc:
        access_denied_record(user=fetched_by, patient=exc.patient, object_type="emr.patient")
        raise
    detail = {}
    if purpose == PURPOSE_METADATA:
        detail["metadata_only"] = True
    if patient.via_break_glass:
        detail["break_glass"] = True
    access_log_record(
        actor=fetched_by,
        action="read",
        object_type="emr.patient",
        object_id=str(patient.external_id),
        patient_external_id=patient.external_id,
        detail=detail,
    )
    return patient


def patient_for_update(*, external_id: uuid.UUID, user: User) -> Patient:
    """The patient whose demographics `user` is about to change (no access-log entry: the write logs itself).

    Raises PermissionDenied without emr.change_patient (before the lookup) or when the patient is outside
    the user's scope (records archivists: every patient; clinicians: the patients they treat), and
    Patient.DoesNotExist for an unknown id.
    """
    if not user.has_perm("emr.change_patient"):
        raise PermissionDenied
    patient = Patient.objects.get(external_id=external_id)
    if not patients_visible_to(user, PURPOSE_METADATA).filter(pk=patient.pk).exists():
        raise PermissionDenied
    return patient


def patient_identity_ids(patient: Patient) -> list[int]:
    """Ids of every patient row that is this person: the patient first, then those merged into it (recursively).

    A merge moves the duplicate's records to the survivor (emr.services.merge), so a chart normally needs
    only the survivor's id; this list is for what stays keyed to the old registrations (the access log's
    patient_external_id, break-the-glass grants) and for readers that want to be robust to a chain of
    merges. One query, whatever the depth of merges.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE identity(id) AS (
                SELECT %s::bigint
                UNION
                SELECT p.id FROM emr_patient p JOIN identity i ON p.merged_into_id = i.id
            )
            SELECT id FROM identity
            """,
            [patient.pk],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return [patient.pk, *sorted(pk for pk in ids if pk != patient.pk)]


# --- name similarity ----------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _is_han(text: str) -> bool:
    return bool(_HAN.search(text))


def _name_similarity(query: str):
    """An expression: how similar the row's name is to `query` (0..1), in the query's name convention."""
    if _is_han(query):
        compact = query.replace(" ", "")
        return Greatest(
            TrigramSimilarity(Concat(F("family_name"), F("given_name")), compact),
            TrigramSimilarity(Concat(F("given_name"), F("family_name")), compact),
        )
    return TrigramSimilarity(Concat(F("family_name"), Value(" "), F("given_name")), query)


# --- search ------------------------------------------------------------------------------------------------------


def _phone_variants(value: str) -> list[str]:
    # A Chinese mobile number is typed with or without its country code; the blind index sees only digits.
    compact = normalize_identifier(value)
    variants = [compact]
    if match := _CN_MOBILE_WITH_COUNTRY.fullmatch(compact):
        variants.append(match.group(1))
    elif _CN_MOBILE.fullmatch(compact):
        variants.append(f"86{compact}")
    return variants


def _identifier_q(value: str) -> Q:
    condition = blind_index_lookup(Patient, "national_id", value) | blind_index_lookup(
        Patient, "insurance_number", value
    )
    for variant in _phone_variants(value):
        condition |= blind_index_lookup(Patient, "phone", variant)
    return condition


def search_kind(query: str) -> str:
    """What a search query is: "mrn", "identifier" (national ID, phone, insurance number) or "name"."""
    text = _fold(query)
    if _MRN_QUERY.fullmatch(text):
        return SEARCH_KIND_MRN
    compact = normalize_identifier(text)
    if compact.isdigit() and len(compact) < 6:
        return SEARCH_KIND_MRN
    # Names never contain digits; ID numbers, phones and insurance numbers always do.
    if compact.isascii() and sum(ch.isdigit() for ch in compact) >= 4:
        return SEARCH_KIND_IDENTIFIER
    return SEARCH_KIND_NAME


def _search_queryset(query: str, kind: str, scope: QuerySet[Patient]) -> QuerySet[Patient]:
    text = _fold(query)
    if kind == SEARCH_KIND_MRN:
        match = _MRN_QUERY.fullmatch(text)
        digits = match.group(1) if match else normalize_identifier(text)
        if match and len(digits) < 8:
            return scope.filter(mrn__startswith=f"MRN{digits}").order_by("mrn")
        return scope.filter(mrn=f"MRN{digits.zfill(8)}")
    if kind == SEARCH_KIND_IDENTIFIER:
        condition = _identifier_q(text)
        compact = normalize_identifier(text)
        if compact.isdigit() and len(compact) <= 8:
            condition |= Q(mrn=f"MRN{compact.zfill(8)}")  # a bare MRN number
        return scope.filter(condition).order_by("family_name", "given_name", "mrn")
    if len(text) < 2 and not _is_han(text):
        return scope.none()  # one Latin letter would match a tenth of the hospital
    # Nearest names first, straight from the GiST trigram index on "family given": word distance makes a
    # typed prefix ("Ann") or a name with one character wrong ("张卫") close to the registered name.
    key = _name_key_query(text)
    return (
        scope.filter(TrigramWordSimilar(PatientNameKey(), Value(key)))
        .annotate(distance=TrigramWordDistance(key, PatientNameKey()))
        .order_by("distance")
    )


def _name_key_query(text: str) -> str:
    """The query written like the index key: a Chinese name typed as one string gets its surname split off."""
    if " " in text or not _is_han(text) or len(text) < 2:
        return text
    surname_length = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
    return f"{text[:surname_length]} {text[surname_length:]}"


def patient_search(*, query: str, fetched_by: User, limit: int = 20) -> list[Patient]:
    """Active patients matching `query`, best first, among those `fetched_by` may see; one "search" log entry.

    The query is an MRN (exact, or a prefix starting with "MRN"; a bare number of up to 5 digits is an MRN
    too), an identifier (national ID, phone or insurance number, matched exactly after normalisation through
    the blind indexes: spaces, dashes, full-width digits and a +86 prefix on a mobile number do not matter),
    or a name (Chinese or Latin, family and given name in either order, trigram similarity with a prefix
    match ranked first). Scope: emr.selectors.access.patients_visible_to(user, "metadata") — records
    archivists find every patient, clinicians the patients they treat. Merged-away patients are left out.
    At most `limit` (capped at SEARCH_LIMIT_MAX) patients. Raises PermissionDenied without emr.view_patient.
    The access-log entry carries {"kind", "results"} and never the query text. A blank query returns [] and
    logs nothing.
    """
    if not fetched_by.has_perm("emr.view_patient"):
        raise PermissionDenied
    if not _fold(query):
        return []
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    kind = search_kind(query)
    scope = patients_visible_to(fetched_by, PURPOSE_METADATA).filter(is_active=True)
    results = list(_search_queryset(query, kind, scope)[:limit])
    access_log_record(
        actor=fetched_by,
        action="search",
        object_type="emr.patient",
        detail={"kind": kind, "results": len(results)},
    )
    return results


def patients_under_care(*, user: User, limit: int = 50) -> list[Patient]:
    """The patients `user` treats now: those with an in-progress encounter the user may see clinically
    (attending, care team, or an inpatient of a ward the user is assigned to), newest admission first.

    Each patient carries `current_encounter` (the newest in-progress one, with its ward). One "search"
    access-log entry with {"kind": "under_care", "results": n}; nothing for users who are not clinicians.
    """
    if not user.has_role(roles.DOCTOR, roles.NURSE) and not user.is_superuser:
        return []
    in_progress = Encounter.objects.filter(status=Encounter.Status.IN_PROGRESS).select_related("ward")
    rows = (
        patients_visible_to(user, PURPOSE_CLINICAL)
        .filter(is_active=True, encounters__status=Encounter.Status.IN_PROGRESS)
        .annotate(latest_start=Max("encounters__started_at", filter=Q(encounters__status="in_progress")))
        .order_by("-latest_start", "family_name", "given_name")
        .prefetch_related(Prefetch("encounters", queryset=in_progress.order_by("-started_at"), to_attr="open"))[:limit]
    )
    patients: list[Patient] = []
    for patient in rows:
        patient.current_encounter = patient.open[0] if patient.open else None
        patients.append(patient)
    access_log_record(
        actor=user, action="search", object_type="emr.patient", detail={"kind": "under_care", "results": len(patients)}
    )
    return patients


# --- duplicates ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A registered patient who may be the person being registered; `reasons` are translated sentences."""

    patient: Patient
    score: float
    reasons: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


REASON_NATIONAL_ID = "same_national_id"
REASON_PHONE = "same_phone"
REASON_NAME_BIRTH_DATE = "similar_name_same_birth_date"


def _reason_text(code: str) -> str:
    return {
        REASON_NATIONAL_ID: _("same national ID"),
        REASON_PHONE: _("same phone"),
        REASON_NAME_BIRTH_DATE: _("similar name and same birth date"),
    }[code]


def _candidate_score(codes: list[str], name_score: float) -> float:
    # The strongest reason sets the score; every further reason adds a little. A national ID is (nearly)
    # proof; a phone is shared within families; a similar name on the same birthday is a strong hint.
    parts = {REASON_NATIONAL_ID: 1.0, REASON_PHONE: 0.6, REASON_NAME_BIRTH_DATE: 0.4 + 0.5 * name_score}
    values = sorted((parts[code] for code in codes), reverse=True)
    return round(min(1.0, values[0] + 0.1 * (len(values) - 1)), 3)


def patient_duplicate_candidates(
    *,
    family_name: str,
    given_name: str,
    birth_date: date,
    fetched_by: User,
    phone: str | None = None,
    national_id: str | None = None,
    limit: int = 5,
    exclude: Patient | None = None,
) -> list[Candidate]:
    """Registered, active patients who may be the person described, strongest first (at most `limit`).

    A candidate has the same national ID (blind index), the same phone (blind index; a Chinese mobile with
    or without +86), or a similar name (trigram similarity of the whole name >= DUPLICATE_NAME_THRESHOLD)
    and the same birth date. Scope: the whole hospital, whatever the user's care teams: registration must
    find the person's earlier registration wherever they were treated. That is why callers show candidates
    with minimal data only (name, MRN, birth year). When there are candidates, one "search" access-log entry
    records {"kind": "duplicate_check", "results": n}; a check that finds nobody showed nothing and logs
    nothing.
    """
    family_name, given_name = _fold(family_name or ""), _fold(given_name or "")
    han = _is_han(family_name + given_name)
    full_name = f"{family_name}{given_name}" if han else f"{family_name} {given_name}".strip()
    same_id = blind_index_lookup(Patient, "national_id", national_id) if national_id else Q(pk__in=[])
    same_phone = Q(pk__in=[])
    if phone:
        for variant in _phone_variants(phone):
            same_phone |= blind_index_lookup(Patient, "phone", variant)
    rows = Patient.objects.filter(is_active=True).filter(same_id | same_phone | Q(birth_date=birth_date))
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    rows = rows.annotate(
        name_score=_name_similarity(full_name) if full_name else Value(0.0, output_field=FloatField()),
        has_same_id=ExpressionWrapper(same_id, output_field=BooleanField()),
        has_same_phone=ExpressionWrapper(same_phone, output_field=BooleanField()),
    ).filter(Q(has_same_id=True) | Q(has_same_phone=True) | Q(name_score__gte=DUPLICATE_NAME_THRESHOLD))
    candidates = []
    for patient in rows[:200]:
        codes = []
        if patient.has_same_id:
            codes.append(REASON_NATIONAL_ID)
        if patient.has_same_phone:
            codes.append(REASON_PHONE)
        if patient.birth_date == birth_date and patient.name_score >= DUPLICATE_NAME_THRESHOLD:
            codes.append(REASON_NAME_BIRTH_DATE)
        if not codes:
            continue
        candidates.append(
            Candidate(
                patient=patient,
                score=_candidate_score(codes, patient.name_score),
                reasons=[_reason_text(code) for code in codes],
                codes=codes,
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.patient.mrn))
    candidates = candidates[: max(1, limit)]
    if candidates:
        access_log_record(
            actor=fetched_by,
            action="search",
            object_type="emr.patient",
            detail={"kind": "duplicate_check", "results": len(candidates)},
        )
    return candidates
