import pytest


@pytest.mark.django_db
def test_roles_exist_after_migrate():
    from django.contrib.auth.models import Group

    from hospital.core.roles import ROLE_PERMISSIONS

    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_PERMISSIONS)
    assert Group.objects.get(name="auditor").permissions.filter(codename="view_user").exists()


def test_api_requires_authentication(client, db):
    response = client.get("/api/v1/core/me/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"
