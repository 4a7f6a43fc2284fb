"""Formulary search and lookups."""

import uuid

import pytest

from pharmacy.models import Drug
from pharmacy.selectors import drug_get, drug_list, drug_lookup_by_name, drug_search

pytestmark = pytest.mark.django_db


def _names(drugs):
    return [drug.generic_name_en for drug in drugs]


def test_a_prefix_finds_amoxicillin_first(formulary):
    results = drug_search(query="amox")

    names = _names(results)
    assert set(names[:4]) == {"Amoxicillin"}
    assert set(names[4:8]) == {"Amoxicillin + clavulanic acid"}
    # Looser trigram matches (tAMOXifen, DiAMOX) may follow, never before the prefix matches.
    assert set(names[8:]) <= {"Tamoxifen", "Acetazolamide"}


def test_the_chinese_name_finds_amoxicillin(formulary):
    results = drug_search(query="阿莫西林")

    assert _names(results[:4]) == ["Amoxicillin"] * 4


def test_a_brand_name_finds_the_generic(formulary):
    assert set(_names(drug_search(query="Tylenol"))) == {"Paracetamol"}
    assert set(_names(drug_search(query="tylenol"))) == {"Paracetamol"}
    assert set(_names(drug_search(query="泰诺林"))) == {"Paracetamol"}
    assert "Metformin" in _names(drug_search(query="Glucophage"))


def test_a_misspelling_still_finds_the_drug(formulary):
    assert "Amoxicillin" in _names(drug_search(query="amoxicilin"))
    assert "Ceftriaxone" in _names(drug_search(query="ceftriaxon"))


def test_an_exact_synonym_ranks_before_a_partial_one(formulary):
    results = drug_search(query="ASA")

    assert results[0].generic_name_en == "Aspirin"
    assert "Mesalazine" in _names(results)  # "5-ASA" contains it
    assert _names(results).index("Mesalazine") > max(i for i, name in enumerate(_names(results)) if name == "Aspirin")


def test_search_respects_the_limit_and_ignores_empty_queries(formulary):
    assert len(drug_search(query="in", limit=3)) == 3
    assert drug_search(query="   ") == []


def test_like_wildcards_in_the_query_are_literal(formulary):
    assert _names(drug_search(query="50%")) == ["Glucose"]
    assert drug_search(query="_") == []


def test_inactive_drugs_are_found_only_when_asked(formulary):
    Drug.objects.filter(generic_name_en="Amoxicillin").update(is_active=False)

    assert "Amoxicillin" not in _names(drug_search(query="amoxicillin"))
    assert "Amoxicillin" in _names(drug_search(query="amoxicillin", active_only=False))


def test_drug_list_filters_high_alert(formulary):
    high_alert = drug_list(high_alert=True)

    assert high_alert.exists()
    assert not high_alert.filter(high_alert=False).exists()
    assert set(_names(drug_list(query="potassium chloride", high_alert=True))) == {"Potassium chloride"}
    assert all(d.form == Drug.Form.INJECTION for d in drug_list(query="potassium chloride", high_alert=True))


def test_drug_get_by_external_id(formulary):
    drug = Drug.objects.get(generic_name_en="Heparin", strength="12,500 IU/2 mL")

    assert drug_get(drug.external_id) == drug
    assert drug_get(str(drug.external_id)) == drug
    with pytest.raises(Drug.DoesNotExist):
        drug_get(uuid.uuid4())
    with pytest.raises(Drug.DoesNotExist):
        drug_get("not-a-uuid")


@pytest.mark.parametrize(
    ("spoken", "forms"),
    [
        ("paracetamol", 6),
        ("对乙酰氨基酚", 6),
        ("ACETAMINOPHEN", 6),
        ("扑热息痛", 6),
        ("Tylenol", 5),  # the brand covers the oral and rectal products, not the infusion
        (" tylenol ", 5),
    ],
)
def test_lookup_by_name_matches_names_and_synonyms_whole(formulary, spoken, forms):
    drugs = drug_lookup_by_name(spoken)

    assert {drug.generic_name_en for drug in drugs} == {"Paracetamol"}
    assert len(drugs) == forms


def test_lookup_by_name_folds_full_width_characters(formulary):
    assert {drug.generic_name_en for drug in drug_lookup_by_name("ＡＳＡ")} == {"Aspirin"}


def test_lookup_by_name_wants_the_whole_name(formulary):
    assert drug_lookup_by_name("amox") == []
    assert drug_lookup_by_name("") == []
    assert drug_lookup_by_name("aspirin 100 mg") == []
