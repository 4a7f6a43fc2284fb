"""ICD-10 lookup and search: emr.selectors.terminology and GET /api/v1/emr/icd10/."""

import pytest
from django.core.exceptions import ValidationError

from emr.selectors.terminology import icd10_get, icd10_normalize, icd10_search
from tests.emr.test_clinical_support import ensure_icd10, make_user

pytestmark = pytest.mark.django_db

SEARCH_URL = "/api/v1/emr/icd10/"


@pytest.fixture(autouse=True)
def _icd10():
    ensure_icd10()


def codes(query, **kwargs):
    return [entry.code for entry in icd10_search(query=query, **kwargs)]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("I21.9", "I21.9"),
        ("i21.9", "I21.9"),
        ("I219", "I21.9"),
        (" j18.9 ", "J18.9"),
        ("I10", "I10"),
        ("i20-i25", "I20-I25"),
    ],
)
def test_get_normalises_the_code(typed, code):
    assert icd10_normalize(typed) == code
    assert icd10_get(typed).code == code


def test_get_of_an_unknown_code_says_so():
    with pytest.raises(ValidationError) as caught:
        icd10_get("X99.99")

    assert caught.value.code == "icd10_unknown"
    assert "X99.99" in caught.value.messages[0]


def test_a_code_prefix_lists_its_codes_in_code_order():
    found = codes("I21")

    assert found[0] == "I21.0"
    assert "I21.9" in found
    assert all(code.startswith("I21.") for code in found)
    assert found == sorted(found)


@pytest.mark.parametrize("query", ["i21.9", "I219", "I21.9"])
def test_a_full_code_finds_that_code_with_or_without_the_dot(query):
    assert codes(query)[0] == "I21.9"


def test_leaf_only_false_includes_categories():
    assert "I21" not in codes("I21")
    assert codes("I21", leaf_only=False)[0] == "I21"


def test_words_find_titles_holding_every_word_common_codes_first():
    found = codes("myocardial infarction")

    assert found[0] == "I21.9"
    assert {"I21.0", "I22.9", "I25.2"} <= set(codes("myocardial infarction", limit=50))
    assert all("heart" in entry.title.lower() for entry in icd10_search(query="heart failure")[:2])


def test_words_are_case_insensitive_and_the_last_one_may_be_unfinished():
    assert codes("MYOCARDIAL INFARCTION")[0] == "I21.9"
    assert codes("myocardial infarc")[0] == "I21.9"
    assert codes("pneumon")[0] == "J18.9"


def test_chinese_words_find_chinese_titles():
    assert codes("高血压")[0] == "I10"
    assert codes("肺炎")[0] == "J18.9"
    assert "S72.0" in codes("股骨颈骨折")
    assert codes("冠心病") == ["I25.1"]


def test_a_typo_still_finds_the_code_by_similarity():
    assert codes("hypertensoin")[0] == "I10"
    assert "I21.9" in codes("myocardal infarction")


def test_limit_empty_and_nonsense_queries():
    assert len(codes("fracture", limit=5)) == 5
    assert codes("") == []
    assert codes("   ") == []
    assert codes("---") == []
    assert codes("qqqqzzzz") == []


def test_api_search_for_a_clinician(api_client, django_assert_num_queries):
    doctor = make_user("icd_doctor", "doctor")
    api_client.force_authenticate(doctor)

    with django_assert_num_queries(2):  # the user's roles, the search
        response = api_client.get(SEARCH_URL, {"q": "I21"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body[0]["code"] == "I21.0"
    assert {"code", "title", "title_zh", "kind", "parent_code", "is_leaf"} == set(body[0])
    assert api_client.get(SEARCH_URL, {"q": "高血压"}).json()[0] == {
        "code": "I10",
        "title": "Essential (primary) hypertension",
        "title_zh": "原发性高血压",
        "kind": "category",
        "parent_code": "I10-I15",
        "is_leaf": True,
    }
    assert len(api_client.get(SEARCH_URL, {"q": "fracture", "limit": 3}).json()) == 3


def test_api_search_is_for_clinicians_only(api_client):
    assert api_client.get(SEARCH_URL, {"q": "I21"}).status_code in (401, 403)
    api_client.force_authenticate(make_user("icd_finance", "finance_officer"))
    assert api_client.get(SEARCH_URL, {"q": "I21"}).status_code == 403


def test_api_detail_normalises_and_404s(api_client):
    api_client.force_authenticate(make_user("icd_nurse", "nurse"))

    response = api_client.get(f"{SEARCH_URL}i219/")
    assert response.status_code == 200
    assert response.json()["code"] == "I21.9"
    assert api_client.get(f"{SEARCH_URL}X99.99/").status_code == 404
