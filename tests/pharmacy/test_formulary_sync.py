"""formulary_sync and formulary_seed_sync: idempotent, all or nothing, matched on name, form and strength."""

import pytest
from django.core.exceptions import ValidationError

from pharmacy.formulary_data import ESSENTIAL_MEDICINES
from pharmacy.models import Drug
from pharmacy.services import drug_active_set, formulary_row_clean, formulary_seed_sync, formulary_sync

pytestmark = pytest.mark.django_db

ROW = {
    "generic_name_en": "Amoxicillin",
    "generic_name_zh": "阿莫西林",
    "form": "capsule",
    "strength": "500 mg",
    "route": "oral",
    "atc_code": "J01CA04",
    "high_alert": False,
    "synonyms": ["Amoxil"],
}


def _snapshot():
    return {
        pk: (updated_at, zh, atc, route, high_alert, tuple(synonyms), active)
        for pk, updated_at, zh, atc, route, high_alert, synonyms, active in Drug.objects.values_list(
            "pk", "updated_at", "generic_name_zh", "atc_code", "route", "high_alert", "synonyms", "is_active"
        )
    }


def test_syncing_the_seed_twice_changes_nothing(formulary):
    before = _snapshot()

    result = formulary_seed_sync()

    assert (result.created, result.updated, result.unchanged) == (0, 0, len(ESSENTIAL_MEDICINES))
    assert _snapshot() == before


def test_sync_into_an_empty_formulary_creates_every_row():
    Drug.objects.all().delete()

    result = formulary_seed_sync()

    assert result.created == Drug.objects.count() == len(ESSENTIAL_MEDICINES)


def test_sync_updates_a_changed_row_in_place(formulary):
    drug = Drug.objects.get(generic_name_en="Amoxicillin", form="capsule", strength="500 mg")
    Drug.objects.filter(pk=drug.pk).update(atc_code="J01CA01", synonyms=["old"])

    result = formulary_seed_sync()

    drug_after = Drug.objects.get(pk=drug.pk)
    assert (result.created, result.updated) == (0, 1)
    assert drug_after.atc_code == "J01CA04"
    assert "Amoxil" in drug_after.synonyms
    assert drug_after.updated_at > drug.updated_at
    assert drug_after.external_id == drug.external_id


def test_sync_matches_name_and_strength_ignoring_case_and_spacing(formulary):
    count = Drug.objects.count()

    row = {**ROW, "generic_name_en": "  amoxicillin ", "strength": "500  MG", "high_alert": True}

    result = formulary_sync(rows=[row])

    assert (result.created, result.updated) == (0, 1)
    assert Drug.objects.count() == count
    assert Drug.objects.get(generic_name_en="Amoxicillin", form="capsule", strength="500 mg").high_alert


def test_resyncing_the_seed_does_not_reinstate_a_retired_drug(formulary):
    drug = Drug.objects.get(generic_name_en="Amoxicillin", form="capsule", strength="500 mg")
    assert drug_active_set(drug_ids=[drug.pk], is_active=False) == 1

    formulary_seed_sync()

    drug.refresh_from_db()
    assert drug.is_active is False


def test_an_invalid_row_raises_and_writes_nothing(formulary):
    before = _snapshot()
    rows = [
        {**ROW, "generic_name_en": "Brand-new drug", "atc_code": "J01XX99"},
        {**ROW, "strength": "250 mg", "atc_code": "not-atc", "form": "pill"},
    ]

    with pytest.raises(ValidationError) as excinfo:
        formulary_sync(rows=rows)

    messages = " ".join(excinfo.value.messages)
    assert "row 2: atc_code" in messages
    assert "row 2: form" in messages
    assert "row 1" not in messages
    assert _snapshot() == before


def test_the_same_drug_twice_in_one_load_is_refused():
    with pytest.raises(ValidationError, match="row 2: the same drug, form and strength as row 1"):
        formulary_sync(rows=[ROW, {**ROW, "generic_name_en": "AMOXICILLIN"}])


def test_row_clean_normalises_codes_labels_and_synonyms():
    cleaned = formulary_row_clean(
        {**ROW, "form": "Capsule", "route": " ORAL", "atc_code": "j01ca04", "synonyms": "Amoxil|amoxil| |阿莫仙",
         "generic_name_zh": "阿莫西林　"}  # a full-width space, as Chinese input methods type it
    )  # fmt: skip

    assert cleaned["form"] == "capsule"
    assert cleaned["route"] == "oral"
    assert cleaned["atc_code"] == "J01CA04"
    assert cleaned["synonyms"] == ["Amoxil", "阿莫仙"]
    assert cleaned["generic_name_zh"] == "阿莫西林"


@pytest.mark.parametrize(
    ("field", "value"),
    [("route", "intravenous"), ("atc_code", "J01CA4"), ("generic_name_zh", " "), ("high_alert", "maybe")],
)
def test_row_clean_names_the_bad_field(field, value):
    with pytest.raises(ValidationError) as excinfo:
        formulary_row_clean({**ROW, field: value})

    assert list(excinfo.value.message_dict) == [field]


def test_drug_active_set_counts_only_changes(formulary):
    ids = list(Drug.objects.filter(generic_name_en="Warfarin").values_list("pk", flat=True))

    assert drug_active_set(drug_ids=ids, is_active=False) == len(ids) == 4
    assert drug_active_set(drug_ids=ids, is_active=False) == 0
    assert drug_active_set(drug_ids=ids, is_active=True) == 4
