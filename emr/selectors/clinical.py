"""Reads of the problem list, allergies and medication orders, and the allergy check of a drug.

These functions do not check access and do not write the access log: the caller has already checked the
user's access to the patient (emr.selectors.access.patient_for_clinical_read) and logs what it shows.
Every list is one query whatever its length (related rows are joined in).
"""

import re
from dataclasses import asdict, dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from emr.models import Allergy, Condition, MedicationOrder, Patient
from pharmacy.models import Drug

# Drug classes with known cross-sensitivity wider than one ATC level-4 group, by ATC prefix. A patient allergic
# to one penicillin is treated as allergic to all (J01CA extended-spectrum, J01CE beta-lactamase sensitive,
# J01CF resistant, J01CG inhibitors, J01CR combinations).
CROSS_SENSITIVE_ATC_PREFIXES = ("J01C",)

# Allergy substances that name a whole drug class rather than one drug, and the ATC groups they cover.
CLASS_SUBSTANCES: dict[str, tuple[str, ...]] = {
    "penicillin": ("J01C",),
    "penicillins": ("J01C",),
    "青霉素": ("J01C",),
    "青霉素类": ("J01C",),
    "cephalosporin": ("J01DB", "J01DC", "J01DD", "J01DE", "J01DI"),
    "cephalosporins": ("J01DB", "J01DC", "J01DD", "J01DE", "J01DI"),
    "头孢菌素": ("J01DB", "J01DC", "J01DD", "J01DE", "J01DI"),
    "头孢菌素类": ("J01DB", "J01DC", "J01DD", "J01DE", "J01DI"),
    "sulfonamide": ("J01E",),
    "sulfonamides": ("J01E",),
    "磺胺": ("J01E",),
    "磺胺类": ("J01E",),
    "nsaid": ("M01A",),
    "nsaids": ("M01A",),
    "非甾体抗炎药": ("M01A",),
}

_NOT_ACTIVE_PROBLEM = [Condition.Verification.REFUTED, Condition.Verification.ENTERED_IN_ERROR]
_LATIN_WORD = re.compile(r"[a-z0-9]+")


def condition_list(*, patient: Patient, clinical_status: str | None = Condition.ClinicalStatus.ACTIVE):
    """The patient's conditions with their ICD-10 entry and recorder, newest onset first, in one query.

    `clinical_status` None lists every condition, whatever its status and verification.
    """
    conditions = Condition.objects.filter(patient=patient).select_related("icd10", "recorded_by", "encounter")
    if clinical_status is not None:
        conditions = conditions.filter(clinical_status=clinical_status)
    return conditions.order_by("-onset_date", "-created_at", "-id")


def active_problems(*, patient: Patient) -> QuerySet[Condition]:
    """The problem list: active conditions that are not refuted or entered in error, newest onset first."""
    return condition_list(patient=patient).exclude(verification__in=_NOT_ACTIVE_PROBLEM)


def allergy_list(*, patient: Patient, status: str | None = Allergy.Status.ACTIVE) -> QuerySet[Allergy]:
    """The patient's allergies (active ones by default; `status` None for all) with drug and recorder, one query."""
    allergies = Allergy.objects.filter(patient=patient).select_related("drug", "recorded_by")
    if status is not None:
        allergies = allergies.filter(status=status)
    return allergies.order_by("substance", "id")


def active_allergies(*, patient: Patient) -> QuerySet[Allergy]:
    """The patient's active allergies, by substance, with the formulary drug joined in."""
    return allergy_list(patient=patient)


def medication_order_list(
    *, patient: Patient, status: str | None = MedicationOrder.Status.ACTIVE
) -> QuerySet[MedicationOrder]:
    """The patient's medication orders (active ones by default; `status` None for all), newest first, one query."""
    orders = MedicationOrder.objects.filter(patient=patient).select_related("drug", "ordered_by", "encounter")
    if status is not None:
        orders = orders.filter(status=status)
    return orders.order_by("-ordered_at", "-id")


def current_medications(*, patient: Patient) -> QuerySet[MedicationOrder]:
    """The patient's active medication orders, newest first, with the drug joined in."""
    return medication_order_list(patient=patient)


@dataclass(frozen=True)
class AllergyConflict:
    """Why an active allergy speaks against a drug; `reason` is same_drug, same_substance or same_class."""

    allergy: str  # the allergy's external id
    substance: str
    severity: str
    reason: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def _norm(text: str) -> str:
    return " ".join((text or "").casefold().split())


def _names(drug: Drug) -> set[str]:
    return {name for name in map(_norm, [drug.generic_name_en, drug.generic_name_zh, *drug.synonyms]) if name}


def _substance_names_drug(substance: str, names: set[str]) -> bool:
    # Equal to a name, a whole word of an English name ("amoxicillin" in "amoxicillin and clavulanic acid"),
    # or part of a Chinese name ("阿莫西林" in "阿莫西林克拉维酸钾"), where words are not separated.
    if substance in names:
        return True
    if _LATIN_WORD.fullmatch(substance.replace(" ", "")):
        return any(re.search(rf"\b{re.escape(substance)}\b", name) for name in names)
    return len(substance) >= 2 and any(substance in name for name in names)


def _same_class(atc_a: str, atc_b: str) -> bool:
    if len(atc_a) >= 5 and atc_a[:5] == atc_b[:5]:
        return True
    return any(atc_a.startswith(prefix) and atc_b.startswith(prefix) for prefix in CROSS_SENSITIVE_ATC_PREFIXES)


def medication_allergy_conflicts(*, patient: Patient, drug: Drug) -> list[AllergyConflict]:
    """The patient's active allergies that speak against ordering `drug`, worst reason first.

    An allergy conflicts when it names this drug (its formulary drug is `drug`), when its substance is one of
    the drug's names (English or Chinese generic name, synonyms; case-insensitive; a whole word of an English
    name, part of a Chinese one), or, for drug allergies, when the allergy's drug shares the ordered drug's
    ATC level-4 group (first five characters) or a cross-sensitive class (all penicillins, J01C). A substance
    naming a class ("penicillin", "青霉素", "cephalosporins", "磺胺类") covers that class's ATC groups. One
    query (two when an allergy's substance has to be looked up in the formulary).
    """
    allergies = list(active_allergies(patient=patient))
    if not allergies:
        return []
    drug_names = _names(drug)
    atc = drug.atc_code or ""
    # Allergies recorded as free text ("Penicillin G") may still name formulary drugs: look their classes up.
    free_text = [a.substance for a in allergies if a.drug_id is None and a.category == Allergy.Category.DRUG]
    unlinked = {_norm(substance) for substance in free_text}
    formulary_atc: dict[str, set[str]] = {}
    if unlinked:
        lookup = Q()
        for substance in free_text:
            # Synonyms are compared as typed and in lower case (an array cannot be searched case-insensitively).
            lookup |= Q(generic_name_en__iexact=substance) | Q(generic_name_zh=substance.strip())
            lookup |= Q(synonyms__overlap=[substance.strip(), _norm(substance)])
        for match in Drug.objects.filter(lookup).only("generic_name_en", "generic_name_zh", "synonyms", "atc_code"):
            for name in _names(match) & unlinked:
                formulary_atc.setdefault(name, set()).add(match.atc_code)

    conflicts: list[AllergyConflict] = []
    for allergy in allergies:
        substance = _norm(allergy.substance)
        params = {"substance": allergy.substance, "drug": drug.generic_name_en}
        if allergy.drug_id is not None and allergy.drug_id == drug.pk:
            reason, message = "same_drug", _("Allergy to %(substance)s: this is the same drug.") % params
        elif _substance_names_drug(substance, drug_names):
            reason, message = "same_substance", _("Allergy to %(substance)s: %(drug)s contains it.") % params
        else:
            allergen_atc: set[str] = set()
            if allergy.category == Allergy.Category.DRUG:
                allergen_atc = (
                    {allergy.drug.atc_code} if allergy.drug is not None else formulary_atc.get(substance, set())
                )
            hit = any(atc.startswith(prefix) for prefix in CLASS_SUBSTANCES.get(substance, ())) or any(
                _same_class(code, atc) for code in allergen_atc if code
            )
            if not hit:
                continue
            reason = "same_class"
            message = (
                _("Allergy to %(substance)s: %(drug)s belongs to the same drug class (cross-sensitivity).") % params
            )
        conflicts.append(
            AllergyConflict(
                allergy=str(allergy.external_id),
                substance=allergy.substance,
                severity=allergy.severity,
                reason=reason,
                message=message,
            )
        )
    order = {"same_drug": 0, "same_substance": 1, "same_class": 2}
    return sorted(conflicts, key=lambda conflict: order[conflict.reason])
