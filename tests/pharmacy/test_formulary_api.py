"""GET /api/v1/pharmacy/drugs/ and /drugs/<id>/."""

import uuid

import pytest
from django.urls import reverse

from pharmacy.models import Drug
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/pharmacy/drugs/"


@pytest.fixture
def nurse_api(api_client):
    api_client.force_authenticate(UserFactory(username="nurse1", roles=["nurse"]))
    return api_client


def test_the_urls_are_mounted():
    assert reverse("pharmacy-drug-list") == LIST_URL


def test_anonymous_users_are_refused(api_client, formulary):
    assert api_client.get(LIST_URL).status_code in (401, 403)


def test_any_signed_in_user_may_search(api_client, formulary):
    api_client.force_authenticate(UserFactory(username="finance1", roles=["finance_officer"]))

    response = api_client.get(LIST_URL, {"q": "amox"})

    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["generic_name_en"] == "Amoxicillin"
    assert first["generic_name_zh"] == "阿莫西林"
    assert first["atc_code"] == "J01CA04"
    assert first["route"] == "oral"
    assert first["display_name"].startswith("Amoxicillin ")
    assert {"external_id", "form", "form_display", "strength", "high_alert", "synonyms", "is_active"} <= set(first)


def test_search_by_chinese_name_and_brand_name(nurse_api, formulary):
    chinese = nurse_api.get(LIST_URL, {"q": "阿莫西林"}).json()["results"]
    brand = nurse_api.get(LIST_URL, {"q": "Tylenol"}).json()["results"]

    assert chinese[0]["generic_name_en"] == "Amoxicillin"
    assert {row["generic_name_en"] for row in brand} == {"Paracetamol"}


def test_high_alert_filter(nurse_api, formulary):
    flagged = nurse_api.get(LIST_URL, {"q": "insulin", "high_alert": "true"}).json()
    not_flagged = nurse_api.get(LIST_URL, {"q": "insulin", "high_alert": "false"}).json()
    either = nurse_api.get(LIST_URL, {"q": "insulin"}).json()

    assert flagged["count"] >= 8
    assert all(row["high_alert"] for row in flagged["results"])
    assert not_flagged["count"] == 0
    assert either["count"] == flagged["count"]


def test_without_a_query_the_list_is_paginated_in_name_order(nurse_api, formulary):
    body = nurse_api.get(LIST_URL).json()

    assert body["count"] == Drug.objects.filter(is_active=True).count() >= 300
    names = [row["generic_name_en"] for row in body["results"]]
    assert names == sorted(names)
    assert body["next"]


def test_a_bad_parameter_is_a_400(nurse_api, formulary):
    response = nurse_api.get(LIST_URL, {"high_alert": "perhaps"})

    assert response.status_code == 400
    assert "high_alert" in response.json()["error"]["fields"]


@pytest.mark.parametrize("params", [{}, {"q": "cef"}, {"q": "肝素", "high_alert": "true"}])
def test_list_query_count_is_pinned(nurse_api, formulary, django_assert_num_queries, params):
    with django_assert_num_queries(2):  # the count and the page
        response = nurse_api.get(LIST_URL, params)

    assert response.status_code == 200


def test_detail_returns_the_drug_even_when_retired(nurse_api, formulary):
    drug = Drug.objects.get(generic_name_en="Heparin", strength="12,500 IU/2 mL")
    Drug.objects.filter(pk=drug.pk).update(is_active=False)

    response = nurse_api.get(reverse("pharmacy-drug-detail", kwargs={"external_id": drug.external_id}))

    assert response.status_code == 200
    body = response.json()
    assert (body["generic_name_zh"], body["high_alert"], body["is_active"]) == ("肝素", True, False)
    listed = nurse_api.get(LIST_URL, {"q": "heparin"}).json()["results"]
    assert str(drug.external_id) not in {row["external_id"] for row in listed}


def test_detail_of_an_unknown_drug_is_404(nurse_api, db):
    response = nurse_api.get(reverse("pharmacy-drug-detail", kwargs={"external_id": uuid.uuid4()}))

    assert response.status_code == 404
    assert "error" in response.json()
