"""The language switch remembers a signed-in user's choice on their account."""

from django.conf import settings


def test_switch_saves_preference_for_signed_in_user(client, doctor):
    client.force_login(doctor)

    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    doctor.refresh_from_db()
    assert doctor.preferred_language == "zh-hans"
    # and the next page is in Chinese
    assert "退出登录" in client.get("/").content.decode()


def test_switch_works_signed_out_without_touching_any_account(client, doctor):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    doctor.refresh_from_db()
    assert doctor.preferred_language == ""


def test_unknown_language_changes_nothing(client, doctor):
    client.force_login(doctor)

    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})

    doctor.refresh_from_db()
    assert doctor.preferred_language == ""


def test_get_is_refused(client):
    assert client.get("/i18n/setlang/?language=zh-hans").status_code == 405
