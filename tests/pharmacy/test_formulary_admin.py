"""The formulary in the Django admin: pharmacists and administrators edit it, others may only look."""

import pytest
from django.urls import reverse

from pharmacy.models import Drug
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.OTP_REQUIRED_FOR_ADMINS = False


def _form(drug, **changes):
    data = {
        "generic_name_en": drug.generic_name_en, "generic_name_zh": drug.generic_name_zh,
        "synonyms": ",".join(drug.synonyms), "form": drug.form, "strength": drug.strength, "route": drug.route,
        "atc_code": drug.atc_code, "high_alert": "on" if drug.high_alert else "", "is_active": "on",
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


@pytest.mark.parametrize("role", ["pharmacist", "administrator"])
def test_pharmacists_and_administrators_edit_drugs(client, formulary, role):
    client.force_login(UserFactory(username=f"{role}1", roles=[role], is_staff=True))
    drug = Drug.objects.get(generic_name_en="Amoxicillin", form="capsule", strength="500 mg")
    url = reverse("admin:pharmacy_drug_change", args=[drug.pk])

    response = client.post(url, _form(drug, synonyms="Amoxil,阿莫仙,house name"))

    assert response.status_code == 302, response.content[:2000]
    drug.refresh_from_db()
    assert drug.synonyms == ["Amoxil", "阿莫仙", "house name"]


def test_a_doctor_may_look_but_not_edit(client, formulary):
    client.force_login(UserFactory(username="doctor.staff", roles=["doctor"], is_staff=True))
    drug = Drug.objects.get(generic_name_en="Amoxicillin", form="capsule", strength="500 mg")
    url = reverse("admin:pharmacy_drug_change", args=[drug.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, _form(drug, atc_code="J01CA01")).status_code == 403
    drug.refresh_from_db()
    assert drug.atc_code == "J01CA04"


def test_an_invalid_atc_code_is_refused_by_the_form(client, formulary):
    client.force_login(UserFactory(username="pharmacist2", roles=["pharmacist"], is_staff=True))
    drug = Drug.objects.get(generic_name_en="Amoxicillin", form="capsule", strength="500 mg")

    response = client.post(reverse("admin:pharmacy_drug_change", args=[drug.pk]), _form(drug, atc_code="J1"))

    assert response.status_code == 200  # the form again, with the error
    drug.refresh_from_db()
    assert drug.atc_code == "J01CA04"


def test_the_admin_search_uses_names_synonyms_and_atc_codes(client, formulary):
    client.force_login(UserFactory(username="pharmacist3", roles=["pharmacist"], is_staff=True))
    url = reverse("admin:pharmacy_drug_changelist")

    by_brand = client.get(url, {"q": "Tylenol"}).context["cl"].result_list
    by_chinese = client.get(url, {"q": "阿莫西林"}).context["cl"].result_list
    by_atc = client.get(url, {"q": "B01AB"}).context["cl"].result_list

    assert {drug.generic_name_en for drug in by_brand} == {"Paracetamol"}
    assert "Amoxicillin" in {drug.generic_name_en for drug in by_chinese}
    assert {drug.generic_name_en for drug in by_atc} == {"Heparin", "Enoxaparin", "Nadroparin", "Dalteparin"}


def test_the_retire_action_deactivates(client, formulary):
    client.force_login(UserFactory(username="pharmacist4", roles=["pharmacist"], is_staff=True))
    ids = list(Drug.objects.filter(generic_name_en="Warfarin").values_list("pk", flat=True))

    response = client.post(
        reverse("admin:pharmacy_drug_changelist"), {"action": "retire", "_selected_action": [str(pk) for pk in ids]}
    )

    assert response.status_code == 302
    assert not Drug.objects.filter(pk__in=ids, is_active=True).exists()
