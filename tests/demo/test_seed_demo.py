"""`manage.py seed_demo`: what it loads, that it is idempotent, --once, and the production guard."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY, authenticate
from django.core.management import CommandError, call_command
from django.db.models import F, Max, Min
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from emr.models import Patient
from hospital.core import roles
from hospital.core.models import AccessLog, User
from hospital.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from hospital.demo.holidays import holiday_on
from scheduling.models import Bed, Department, Ward, WardDailyCensus

pytestmark = pytest.mark.django_db

DAYS = 60
PATIENTS = 20
HAN = re.compile(r"[\u4e00-\u9fff]")


def seed(*extra: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--days", str(DAYS), "--patients", str(PATIENTS), "--no-progress", *extra, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded():
    return seed()


def _counts() -> dict[str, int]:
    models = (Department, Ward, Bed, WardDailyCensus, User, Patient, AccessLog)
    return {model.__name__: model.objects.count() for model in models} | {
        "memberships": User.groups.through.objects.count(),
        "updated": WardDailyCensus.objects.filter(updated_at__gt=F("created_at")).count(),
    }


def test_loads_wards_and_beds(seeded):
    assert Ward.objects.count() == 8
    assert Department.objects.count() == 8
    assert Bed.objects.count() == 200
    assert set(Ward.objects.values_list("specialty", flat=True)) == {
        "general_medicine", "cardiology", "respiratory", "general_surgery", "orthopaedics", "paediatrics",
        "obstetrics", "critical_care",
    }  # fmt: skip
    assert all(HAN.search(name) for name in Ward.objects.values_list("name_zh", flat=True))
    assert Ward.objects.get(code="OBS1").sex_policy == "female"
    assert Bed.objects.filter(ward__code="ICU1", bed_type__in=["icu", "isolation"]).count() == 8


def test_every_person_account_signs_in_with_the_demo_password(seeded):
    for username, _role, _name in DEMO_ACCOUNTS:
        if username == "his.gateway":
            continue  # integration clients never get a session; checked below
        client = Client()
        response = client.post(reverse("core:login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        assert client.session[SESSION_KEY] == str(User.objects.get(username=username).pk), username


def test_accounts_have_their_roles_and_flags(seeded):
    for username, role, _name in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.role_names == {role}, username
        assert user.is_superuser == user.is_staff == (role == roles.ADMINISTRATOR), username
        assert user.is_integration_client == (role == roles.INTEGRATION_CLIENT), username
    gateway = authenticate(RequestFactory().post("/"), username="his.gateway", password=DEMO_PASSWORD)
    assert gateway is not None and gateway.is_integration_client
    assert User.objects.get(username="dr.li").has_perm("emr.add_patient")


def test_ward_staff_exist_without_logins(seeded):
    ward_staff = User.objects.filter(username__startswith="gm1.")
    assert ward_staff.filter(groups__name=roles.DOCTOR).count() >= 2
    assert ward_staff.filter(groups__name=roles.NURSE).count() >= 3
    assert not any(
        user.has_usable_password() for user in User.objects.exclude(username__in=[a[0] for a in DEMO_ACCOUNTS])
    )


def test_census_covers_every_ward_for_the_last_days_ending_yesterday(seeded):
    yesterday = timezone.localdate() - timedelta(days=1)
    assert WardDailyCensus.objects.count() == 8 * DAYS
    span = WardDailyCensus.objects.aggregate(first=Min("date"), last=Max("date"))
    assert span == {"first": yesterday - timedelta(days=DAYS - 1), "last": yesterday}
    for ward in Ward.objects.all():
        assert ward.daily_census.count() == DAYS
        assert set(ward.daily_census.values_list("capacity", flat=True)) == {ward.beds.count()}


def test_census_is_never_negative_nor_above_capacity(seeded):
    rows = WardDailyCensus.objects.all()
    assert not rows.filter(occupied_at_midnight__gt=F("capacity")).exists()
    for field in ("admissions", "discharges", "transfers_in", "transfers_out", "occupied_at_midnight"):
        assert not rows.filter(**{f"{field}__lt": 0}).exists()
    assert rows.filter(occupied_at_midnight__gt=0).count() > rows.count() * 0.9


def test_weekly_pattern_is_visible_for_elective_wards(seeded):
    rows = [
        row for row in WardDailyCensus.objects.filter(ward__code__in=["GS1", "ORTH1"]) if holiday_on(row.date) is None
    ]
    weekday = [row.admissions for row in rows if row.date.weekday() < 5]
    sunday = [row.admissions for row in rows if row.date.weekday() == 6]
    assert sum(weekday) / len(weekday) > sum(sunday) / len(sunday)


def test_patients_mix_chinese_and_english_names_and_are_logged_once(seeded):
    patients = list(Patient.objects.all())
    assert len(patients) == PATIENTS
    han = [p for p in patients if HAN.search(p.family_name)]
    assert 0 < len(han) < PATIENTS
    assert all(re.fullmatch(r"MRN\d{8}", p.mrn) for p in patients)
    assert all(p.birth_date < timezone.localdate() for p in patients)
    entry = AccessLog.objects.get(object_type="emr.patient")
    assert (entry.action, entry.actor_kind, entry.channel) == ("create", "system", "command")
    assert entry.detail == {"patients": PATIENTS}


def test_running_twice_changes_nothing(seeded):
    before = _counts()
    output = seed()
    assert _counts() == before
    assert set(re.findall(r"\((\d+) new\)", output)) == {"0"}


def test_once_skips_when_loaded_and_loads_when_not():
    first = seed("--once")
    assert Ward.objects.count() == 8 and "Demo hospital:" in first
    before = _counts()

    second = seed("--once")

    assert "already loaded" in second
    assert _counts() == before


def test_refuses_production_mode(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed()
    assert not Ward.objects.exists()
    assert not User.objects.filter(username="admin").exists()


def test_production_mode_needs_the_explicit_flag(settings):
    settings.PRODUCTION = True
    seed("--allow-production")
    assert Ward.objects.count() == 8
