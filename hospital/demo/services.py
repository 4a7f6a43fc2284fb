"""Loading the demo hospital, part by part. Development only (the command refuses production mode).

Every part is idempotent: rows are found by their natural keys (codes, usernames, names + birth date,
ward + date) and only missing ones are created; existing rows are never changed, so edits made in the
admin survive a re-seed and a second run writes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from emr.models import Patient
from emr.services.patients import PatientData, patient_bulk_import
from hospital.core import roles
from hospital.core.models import User
from hospital.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from hospital.demo.beds import bed_stays_for_inpatients
from hospital.demo.catalogue import DEPARTMENTS, WARDS, demo_patients, ward_staff
from hospital.demo.census import CensusDay, WardInput, simulate
from hospital.demo.charts import clinical_records
from hospital.demo.clinics import clinic_sessions
from scheduling.models import Bed, Department, Ward, WardDailyCensus

DEFAULT_DAYS = 3 * 365
DEFAULT_PATIENTS = 300
DEFAULT_SEED = 2026
CENSUS_BATCH = 2000
SEED_PURPOSE = "demo hospital seeding"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PartResult:
    total: int
    created: int


@dataclass(frozen=True)
class SeedSummary:
    departments: PartResult
    wards: PartResult
    beds: PartResult
    staff: PartResult
    patients: PartResult
    census: PartResult
    charts: int
    start: date
    end: date

    def line(self) -> str:
        parts = [
            ("departments", self.departments),
            ("wards", self.wards),
            ("beds", self.beds),
            ("staff", self.staff),
            ("patients", self.patients),
            ("census days", self.census),
        ]
        counts = ", ".join(f"{result.total} {label} ({result.created} new)" for label, result in parts)
        return f"Demo hospital: {counts}; {self.charts} new charts; census {self.start} to {self.end}."


def _noop(_n: int) -> None:
    return None


@transaction.atomic
def departments_and_wards() -> tuple[PartResult, PartResult]:
    """The demo departments and their wards (by code)."""
    departments: dict[str, Department] = {}
    created_departments = 0
    for spec in DEPARTMENTS:
        department, created = Department.objects.get_or_create(
            code=spec.code, defaults={"name_en": spec.name_en, "name_zh": spec.name_zh, "specialty": spec.specialty}
        )
        departments[spec.code] = department
        created_departments += created
    created_wards = 0
    for ward_spec in WARDS:
        _ward, created = Ward.objects.get_or_create(
            code=ward_spec.code,
            defaults={
                "department": departments[ward_spec.department_code],
                "name_en": ward_spec.name_en,
                "name_zh": ward_spec.name_zh,
                "specialty": ward_spec.specialty,
                "sex_policy": ward_spec.sex_policy,
                "isolation_capable": ward_spec.isolation_capable,
                "nursing_level": ward_spec.nursing_level,
                "turnaround_target_minutes": ward_spec.turnaround_target_minutes,
            },
        )
        created_wards += created
    return PartResult(len(DEPARTMENTS), created_departments), PartResult(len(WARDS), created_wards)


@transaction.atomic
def beds() -> PartResult:
    """The beds of every demo ward, coded 01, 02, ...; the last `isolation_beds` of a ward are isolation beds."""
    wards = {ward.code: ward for ward in Ward.objects.filter(code__in=[spec.code for spec in WARDS])}
    existing = set(Bed.objects.filter(ward__in=wards.values()).values_list("ward__code", "code"))
    missing = []
    total = 0
    for spec in WARDS:
        for number in range(1, spec.beds + 1):
            total += 1
            code = f"{number:02d}"
            if (spec.code, code) in existing:
                continue
            isolation = number > spec.beds - spec.isolation_beds
            missing.append(
                Bed(ward=wards[spec.code], code=code, bed_type=Bed.BedType.ISOLATION if isolation else spec.bed_type)
            )
    Bed.objects.bulk_create(missing)
    return PartResult(total, len(missing))


def _role_groups() -> dict[str, Group]:
    groups = {group.name: group for group in Group.objects.filter(name__in=list(roles.ROLE_PERMISSIONS))}
    if len(groups) < len(roles.ROLE_PERMISSIONS):
        roles.roles_sync()
        groups = {group.name: group for group in Group.objects.filter(name__in=list(roles.ROLE_PERMISSIONS))}
    return groups


@transaction.atomic
def staff(*, seed: int = DEFAULT_SEED) -> PartResult:
    """The demo login accounts (one per role, password DEMO_PASSWORD) and ward doctors and nurses without logins.

    Existing accounts keep their password; missing role memberships and flags are added.
    """
    groups = _role_groups()
    # Hashed once: PBKDF2 per account would make seeding take seconds, and the password is public anyway.
    demo_hash = make_password(DEMO_PASSWORD)
    created_count = 0
    for username, role, display_name in DEMO_ACCOUNTS:
        flags = {
            "is_staff": role == roles.ADMINISTRATOR,
            "is_superuser": role == roles.ADMINISTRATOR,
            "is_integration_client": role == roles.INTEGRATION_CLIENT,
        }
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"display_name": display_name, "email": f"{username}@demo.hospital.test", "password": demo_hash}
            | flags,
        )
        created_count += created
        missing_flags = [name for name, wanted in flags.items() if wanted and not getattr(user, name)]
        if missing_flags:
            for name in missing_flags:
                setattr(user, name, True)
            user.save(update_fields=missing_flags)
        user.groups.add(groups[role])

    ward_people = ward_staff(seed=seed)
    usernames = [p.username for p in ward_people]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    new_users = []
    for person in ward_people:
        if person.username in existing:
            continue
        user = User(
            username=person.username,
            first_name=person.name.given_latin,
            last_name=person.name.family_latin,
            display_name=person.name.display,
            email=f"{person.username}@demo.hospital.test",
        )
        user.set_unusable_password()
        new_users.append(user)
    User.objects.bulk_create(new_users)
    by_username = {u.username: u for u in User.objects.filter(username__in=usernames)}
    memberships = [
        User.groups.through(user_id=by_username[p.username].pk, group_id=groups[p.role].pk) for p in ward_people
    ]
    User.groups.through.objects.bulk_create(memberships, ignore_conflicts=True)
    return PartResult(len(DEMO_ACCOUNTS) + len(ward_people), created_count + len(new_users))


@transaction.atomic
def patients(*, count: int = DEFAULT_PATIENTS, seed: int = DEFAULT_SEED) -> PartResult:
    """`count` demo patients with Chinese and English names, created through emr's bulk import.

    Seeding is one system action, so it leaves ONE access-log entry ("create", detail {"patients": n},
    no actor), and none when every demo patient already exists.
    """
    wanted = demo_patients(count=count, seed=seed)
    existing = set(
        Patient.objects.filter(birth_date__in={p.birth_date for p in wanted}).values_list(
            "family_name", "given_name", "birth_date"
        )
    )
    missing = [
        PatientData(
            family_name=p.name.family,
            given_name=p.name.given,
            sex=p.name.sex,
            birth_date=p.birth_date,
            allergy_status=p.allergy_status,
        )
        for p in wanted
        if (p.name.family, p.name.given, p.birth_date) not in existing
    ]
    created = patient_bulk_import(patients=missing, actor=None, purpose=SEED_PURPOSE)
    return PartResult(count, len(created))


def demo_patient_ids(*, count: int = DEFAULT_PATIENTS, seed: int = DEFAULT_SEED) -> list[int]:
    """Ids of the demo patients (found by name and birth date): only they are given demo charts, never a
    patient someone registered by hand."""
    wanted = {(p.name.family, p.name.given, p.birth_date) for p in demo_patients(count=count, seed=seed)}
    rows = Patient.objects.filter(birth_date__in={key[2] for key in wanted}).values_list(
        "id", "family_name", "given_name", "birth_date"
    )
    return [pk for pk, family, given, born in rows if (family, given, born) in wanted]


def _census_row(ward: Ward, day: CensusDay) -> WardDailyCensus:
    return WardDailyCensus(
        ward=ward,
        date=day.date,
        admissions=day.admissions,
        discharges=day.discharges,
        transfers_in=day.transfers_in,
        transfers_out=day.transfers_out,
        occupied_at_midnight=day.occupied_at_midnight,
        capacity=day.capacity,
    )


@transaction.atomic
def census_history(*, start: date, end: date, seed: int = DEFAULT_SEED, progress: Progress = _noop) -> PartResult:
    """Daily census of every demo ward from `start` to `end` inclusive (see hospital.demo.census).

    Capacity is the ward's active beds now. Rows that already exist are left alone (they may be real
    history), so re-running only fills gaps; `progress` is called with the number of rows handled.
    """
    specs = {spec.code: spec for spec in WARDS}
    wards = list(
        Ward.objects.filter(code__in=list(specs)).annotate(active_beds=Count("beds", filter=Q(beds__is_active=True)))
    )
    inputs = [WardInput(w.code, w.active_beds, specs[w.code].census) for w in wards if w.active_beds > 0]
    by_code = {w.code: w for w in wards}
    before = WardDailyCensus.objects.filter(ward__in=wards, date__range=(start, end)).count()
    batch: list[WardDailyCensus] = []
    total = 0
    for day in simulate(wards=inputs, start=start, end=end, seed=seed):
        batch.append(_census_row(by_code[day.ward_code], day))
        if len(batch) >= CENSUS_BATCH:
            WardDailyCensus.objects.bulk_create(batch, ignore_conflicts=True)
            total += len(batch)
            progress(len(batch))
            batch = []
    if batch:
        WardDailyCensus.objects.bulk_create(batch, ignore_conflicts=True)
        total += len(batch)
        progress(len(batch))
    after = WardDailyCensus.objects.filter(ward__in=wards, date__range=(start, end)).count()
    return PartResult(total, after - before)


def census_window(*, days: int = DEFAULT_DAYS, end: date | None = None) -> tuple[date, date]:
    """`days` days ending yesterday (the hospital's calendar), or ending `end`."""
    end = end or timezone.localdate() - timedelta(days=1)
    return end - timedelta(days=days - 1), end


def demo_hospital_loaded(
    *, through: date | None = None, patient_count: int = DEFAULT_PATIENTS, seed: int = DEFAULT_SEED
) -> bool:
    """Whether the demo hospital is there: all demo wards exist, each has its census up to `through`
    (default yesterday), and every demo patient has a chart. A history that stopped some days ago, or a
    database loaded before charts existed, counts as not loaded, so a re-run tops it up.
    """
    through = through or census_window(days=1)[1]
    codes = [spec.code for spec in WARDS]
    if Ward.objects.filter(code__in=codes).count() < len(codes):
        return False
    if WardDailyCensus.objects.filter(ward__code__in=codes, date=through).count() < len(codes):
        return False
    ids = demo_patient_ids(count=patient_count, seed=seed)
    return len(ids) >= patient_count and not Patient.objects.filter(pk__in=ids, encounters__isnull=True).exists()


def demo_seed_size(*, days: int) -> int:
    """Units of work of a full seed, for a progress bar: one per part plus one per census row."""
    return 4 + len(WARDS) * days


@transaction.atomic
def demo_hospital_seed(
    *,
    days: int = DEFAULT_DAYS,
    patient_count: int = DEFAULT_PATIENTS,
    seed: int = DEFAULT_SEED,
    end: date | None = None,
    progress: Progress = _noop,
) -> SeedSummary:
    """Load (or complete) the whole demo hospital in one transaction: all of it or nothing."""
    start, end = census_window(days=days, end=end)
    department_result, ward_result = departments_and_wards()
    progress(1)
    bed_result = beds()
    progress(1)
    staff_result = staff(seed=seed)
    progress(1)
    census_result = census_history(start=start, end=end, seed=seed, progress=progress)
    # Patients last: their access-log entry holds the log's chain lock until this transaction commits.
    patient_result = patients(count=patient_count, seed=seed)
    charts = clinical_records(seed=seed, patient_ids=demo_patient_ids(count=patient_count, seed=seed))
    bed_stays_for_inpatients(seed=seed)
    clinic_sessions(seed=seed)
    progress(1)
    return SeedSummary(
        departments=department_result,
        wards=ward_result,
        beds=bed_result,
        staff=staff_result,
        patients=patient_result,
        census=census_result,
        charts=charts,
        start=start,
        end=end,
    )
