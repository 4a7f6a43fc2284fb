"""Realistic charts for the demo patients: encounters, care teams, notes, vitals, labs, problems, allergies, orders.

Each demo patient is given a home ward and a clinical scenario of that ward (e.g. community-acquired
pneumonia on the respiratory ward). Patients get one to three finished outpatient visits over the
last years; about half of them are inpatients right now, with an admission note, progress notes,
vital signs every eight hours, laboratory results every two days and active medication orders. Notes
are written in Chinese for patients with Chinese names and in English otherwise.

Seeding is one system action: rows are created in bulk, straight through the models (the services'
per-row checks and access-log entries would make a demo load take minutes), and ONE access-log entry
records it. Only patients that have no encounter yet are given a chart, so a second run writes nothing.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from emr.models import (
    VITAL_LIMITS,
    Allergy,
    CareTeamMember,
    ClinicalNote,
    Condition,
    Encounter,
    Icd10Code,
    MedicationOrder,
    NoteDiagnosis,
    Observation,
    Patient,
)
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from pharmacy.models import Drug
from pharmacy.selectors import drug_lookup_by_name
from scheduling.models import Ward, WardAssignment

SEED_PURPOSE = "demo hospital seeding"


@dataclass(frozen=True)
class Scenario:
    icd10: str
    complaint: tuple[str, str]  # (English, Chinese)
    history: tuple[str, str]
    assessment: tuple[str, str]
    plan: tuple[str, str]
    drugs: tuple[tuple[str, str, str, str, str], ...]  # generic name, dose, unit, route, frequency
    vitals: tuple[float, float, float, float, float, float]  # HR, RR, SpO2, temp, SBP, DBP
    abnormal_labs: tuple[str, ...] = ()
    chronic: tuple[str, ...] = ()


SCENARIOS: dict[str, tuple[Scenario, ...]] = {
    "GM1": (
        Scenario(
            "N39.0",
            ("Burning on urination and fever for 2 days", "尿痛伴发热2天"),
            ("Dysuria, frequency and fever to 38.6 C since two days.", "2天前出现尿频、尿痛，伴发热，最高38.6℃。"),
            ("Urinary tract infection.", "泌尿系感染。"),
            ("Urine culture, IV ceftriaxone, fluids, review in 48 h.", "尿培养，头孢曲松静滴，补液，48小时后复查。"),
            (("Ceftriaxone", "2", "g", "iv", "qd"), ("Paracetamol", "500", "mg", "oral", "prn")),
            (98, 18, 97, 38.3, 118, 72),
            ("6690-2", "1988-5"),
            ("E11.9",),
        ),
        Scenario(
            "E11.9",
            ("High blood sugar and thirst for 1 month", "口干多饮1月，血糖升高"),
            ("Polyuria and polydipsia; home glucose 15-18 mmol/L.", "多饮多尿1月，自测血糖15-18 mmol/L。"),
            ("Type 2 diabetes, poorly controlled.", "2型糖尿病，血糖控制不佳。"),
            ("Metformin, diabetes education, HbA1c, eye and foot check.", "二甲双胍口服，糖尿病教育，查糖化血红蛋白。"),
            (("Metformin", "500", "mg", "oral", "bid"),),
            (84, 16, 98, 36.7, 138, 84),
            ("2345-7",),
            ("I10",),
        ),
    ),
    "CARD1": (
        Scenario(
            "I21.9",
            ("Crushing chest pain for 3 hours", "胸骨后压榨样疼痛3小时"),
            ("Central chest pain radiating to the left arm, sweating.", "胸骨后疼痛向左上肢放射，伴大汗。"),
            ("Acute myocardial infarction.", "急性心肌梗死。"),
            ("Dual antiplatelet therapy, statin, PCI, cardiac monitoring.", "双联抗血小板，他汀，急诊PCI，心电监护。"),
            (
                ("Aspirin", "100", "mg", "oral", "qd"),
                ("Clopidogrel", "75", "mg", "oral", "qd"),
                ("Atorvastatin", "40", "mg", "oral", "qn"),
            ),
            (96, 20, 95, 36.8, 142, 88),
            (),
            ("I10", "E78.5"),
        ),
        Scenario(
            "I50.9",
            ("Shortness of breath and leg swelling for 1 week", "气促、双下肢水肿1周"),
            ("Orthopnoea, three pillows, ankle oedema.", "夜间不能平卧，双下肢凹陷性水肿。"),
            ("Decompensated heart failure.", "心力衰竭急性加重。"),
            ("IV furosemide, fluid restriction, daily weights.", "呋塞米静推利尿，限水，每日称重。"),
            (("Furosemide", "40", "mg", "iv", "bid"),),
            (104, 24, 92, 36.6, 150, 92),
            ("2160-0", "2823-3"),
            ("I48.9",),
        ),
    ),
    "RESP1": (
        Scenario(
            "J18.9",
            ("Cough and fever for 4 days", "咳嗽、发热4天"),
            ("Productive cough, fever to 39 C, pleuritic pain on the right.", "咳嗽咳黄痰，发热最高39℃，右侧胸痛。"),
            ("Community-acquired pneumonia.", "社区获得性肺炎。"),
            ("Chest X-ray, sputum culture, IV antibiotics, oxygen to SpO2 94%.", "胸片，痰培养，静脉抗感染，吸氧。"),
            (("Ceftriaxone", "2", "g", "iv", "qd"), ("Paracetamol", "500", "mg", "oral", "prn")),
            (108, 24, 93, 38.7, 124, 76),
            ("6690-2", "1988-5"),
        ),
        Scenario(
            "J44.1",
            ("Worsening breathlessness for 3 days", "喘憋加重3天"),
            ("Known COPD; more sputum and wheeze after a cold.", "慢阻肺病史，受凉后咳痰增多、喘息加重。"),
            ("Acute exacerbation of COPD.", "慢性阻塞性肺疾病急性加重。"),
            ("Nebulised bronchodilators, steroids, controlled oxygen 88-92%.", "雾化支气管扩张剂，激素，控制性氧疗。"),
            (("Salbutamol", "5", "mg", "inhaled", "q6h"),),
            (102, 26, 89, 37.4, 132, 80),
            ("1988-5",),
            ("J44.9",),
        ),
    ),
    "GS1": (
        Scenario(
            "K35.8",
            ("Right lower abdominal pain for 1 day", "右下腹痛1天"),
            ("Periumbilical pain moving to the right iliac fossa, nausea.", "转移性右下腹痛，伴恶心。"),
            ("Acute appendicitis.", "急性阑尾炎。"),
            ("Laparoscopic appendicectomy, IV antibiotics.", "腹腔镜阑尾切除术，静脉抗感染。"),
            (("Cefuroxime", "1.5", "g", "iv", "q8h"),),
            (96, 18, 98, 37.9, 126, 78),
            ("6690-2",),
        ),
        Scenario(
            "K81.0",
            ("Upper right abdominal pain after a fatty meal", "进食油腻后右上腹痛"),
            ("Colicky right upper quadrant pain, Murphy sign positive.", "右上腹绞痛，墨菲征阳性。"),
            ("Acute cholecystitis.", "急性胆囊炎。"),
            ("Ultrasound, antibiotics, cholecystectomy when settled.", "腹部超声，抗感染，择期胆囊切除。"),
            (("Ceftriaxone", "2", "g", "iv", "qd"),),
            (92, 18, 97, 38.1, 130, 82),
            ("6690-2", "1988-5"),
        ),
    ),
    "ORTH1": (
        Scenario(
            "S72.0",
            ("Fall at home, cannot stand", "在家跌倒后不能站立"),
            ("Fell on the left hip; leg shortened and externally rotated.", "跌倒致左髋着地，左下肢短缩外旋。"),
            ("Fracture of the neck of femur.", "股骨颈骨折。"),
            ("Hemiarthroplasty, thromboprophylaxis, early mobilisation.", "人工股骨头置换，抗凝预防血栓，早期活动。"),
            (("Enoxaparin", "40", "mg", "sc", "qd"), ("Paracetamol", "1", "g", "oral", "q6h")),
            (88, 16, 97, 36.8, 146, 84),
            ("718-7",),
            ("M17.9",),
        ),
    ),
    "PAED1": (
        Scenario(
            "J21.9",
            ("Cough and fast breathing for 2 days", "咳嗽、气促2天"),
            ("Infant with coryza, wheeze and poor feeding.", "患儿流涕、喘息，吃奶减少。"),
            ("Acute bronchiolitis.", "急性毛细支气管炎。"),
            ("Nasal suction, oxygen if SpO2 < 92%, feeding support.", "吸痰，血氧低于92%时吸氧，喂养支持。"),
            (("Paracetamol", "120", "mg", "oral", "prn"),),
            (138, 40, 94, 37.8, 96, 58),
            (),
        ),
    ),
    "OBS1": (
        Scenario(
            "O80.9",
            ("Regular contractions at 39 weeks", "孕39周，规律宫缩"),
            ("Primigravida, contractions every 4 minutes, membranes intact.", "初产妇，宫缩间隔4分钟，胎膜未破。"),
            ("Spontaneous labour, normal delivery expected.", "自然临产，预计阴道分娩。"),
            ("Monitor labour, oxytocin after delivery.", "产程观察，产后缩宫素。"),
            (("Oxytocin", "10", "IU", "im", "once"),),
            (90, 18, 99, 37.0, 122, 76),
            (),
        ),
    ),
    "ICU1": (
        Scenario(
            "A41.9",
            ("Fever, confusion and low blood pressure", "发热、意识模糊、血压下降"),
            ("Transferred from the ward with hypotension despite fluids.", "病房转入，补液后仍低血压。"),
            ("Sepsis with organ dysfunction.", "脓毒症伴器官功能障碍。"),
            (
                "Broad-spectrum antibiotics, vasopressors, lactate every 6 h.",
                "广谱抗生素，血管活性药物，每6小时测乳酸。",
            ),
            (("Meropenem", "1", "g", "iv", "q8h"), ("Noradrenaline", "0.1", "mcg/kg/min", "iv", "once")),
            (122, 28, 91, 38.9, 92, 54),
            ("6690-2", "1988-5", "2160-0"),
        ),
    ),
}

# (code, display, unit, low, high, normal mean, spread) — LOINC codes, SI units.
LABS = (
    ("2823-3", "Potassium", "mmol/L", 3.5, 5.1, 4.2, 0.3),
    ("2951-2", "Sodium", "mmol/L", 135, 145, 139, 2.0),
    ("2160-0", "Creatinine", "umol/L", 57, 111, 80, 12),
    ("2345-7", "Glucose", "mmol/L", 3.9, 6.1, 5.2, 0.5),
    ("718-7", "Haemoglobin", "g/L", 115, 175, 135, 10),
    ("6690-2", "White cell count", "10*9/L", 3.5, 9.5, 6.5, 1.2),
    ("777-3", "Platelets", "10*9/L", 125, 350, 230, 40),
    ("1988-5", "C-reactive protein", "mg/L", 0, 10, 4, 2),
)
ALLERGENS = (
    ("Penicillin", "Benzylpenicillin", "Rash, hives"),
    ("Sulfonamides", None, "Rash"),
    ("Cephalosporins", None, "Itching"),
    ("Shellfish", None, "Lip swelling"),
    ("Aspirin", "Aspirin", "Wheeze"),
)
VITAL_FIELDS = ("heart_rate", "respiratory_rate", "spo2", "temperature", "systolic_bp", "diastolic_bp")


def _ward_of_username(username: str) -> str | None:
    # Ward staff are named like "gm1.zhang.wei": the prefix is the ward code.
    prefix = username.split(".", 1)[0].upper()
    return prefix if prefix in SCENARIOS else None


def _home_ward(rng: random.Random, patient: Patient, today: date) -> str:
    age = (today - patient.birth_date).days // 365
    if age < 14:
        return "PAED1"
    if patient.sex == "female" and 18 <= age <= 42 and rng.random() < 0.35:
        return "OBS1"
    return rng.choice(["GM1", "GM1", "CARD1", "RESP1", "GS1", "ORTH1", "ICU1"])


def _clip(code: str, value: float) -> Decimal:
    low, high, _unit = VITAL_LIMITS[code]
    return Decimal(str(round(min(max(value, float(low)), float(high)), 1)))


class _Builder:
    """Collects the rows of many charts and writes them in a few bulk inserts."""

    def __init__(self, rng: random.Random, now: datetime):
        self.rng, self.now = rng, now
        self.encounters: list[Encounter] = []
        self.team: list[tuple[Encounter, User, str]] = []
        self.notes: list[tuple[ClinicalNote, list[str], User, datetime]] = []
        self.observations: list[Observation] = []
        self.conditions: list[Condition] = []
        self.allergies: list[Allergy] = []
        self.orders: list[MedicationOrder] = []

    def vitals(self, *, patient, encounter, scenario: Scenario, at: datetime, by: User, severity: float) -> None:
        set_id = uuid.uuid4()
        base = dict(zip(VITAL_FIELDS, scenario.vitals, strict=True))
        spread = {"heart_rate": 6, "respiratory_rate": 2, "spo2": 1.2, "temperature": 0.3, "systolic_bp": 8}
        spread["diastolic_bp"] = 6
        values = {code: base[code] + self.rng.gauss(0, spread[code]) * severity for code in VITAL_FIELDS}
        values["spo2"] = min(values["spo2"], 100)
        values["diastolic_bp"] = min(values["diastolic_bp"], values["systolic_bp"] - 15)
        for code in VITAL_FIELDS:
            self.observations.append(
                Observation(
                    patient=patient,
                    encounter=encounter,
                    category="vital_sign",
                    code=code,
                    display=str(Observation.VitalSign(code).label),
                    value_numeric=_clip(code, values[code]),
                    unit=VITAL_LIMITS[code][2],
                    effective_at=at,
                    set_id=set_id,
                    recorded_by=by,
                    source=Observation.Source.DEVICE,
                )  # fmt: skip
            )
        self.observations.append(
            Observation(
                patient=patient,
                encounter=encounter,
                category="vital_sign",
                code="consciousness",
                display=str(Observation.VitalSign.CONSCIOUSNESS.label),
                value_text="A",
                effective_at=at,
                set_id=set_id,
                recorded_by=by,
            )  # fmt: skip
        )

    def labs(self, *, patient, encounter, scenario: Scenario, at: datetime, by: User) -> None:
        for code, display, unit, low, high, mean, spread in LABS:
            value = self.rng.gauss(mean, spread)
            if code in scenario.abnormal_labs:
                value = high + abs(self.rng.gauss(spread * 2, spread))
            value = max(value, 0.1)
            flag = "H" if value > high else "L" if value < low else "N"
            self.observations.append(
                Observation(
                    patient=patient,
                    encounter=encounter,
                    category="laboratory",
                    code=code,
                    display=display,
                    value_numeric=Decimal(str(round(value, 1))),
                    unit=unit,
                    reference_low=Decimal(str(low)),
                    reference_high=Decimal(str(high)),
                    flag=flag,
                    effective_at=at,
                    recorded_by=by,
                    source=Observation.Source.INTERFACE,
                )  # fmt: skip
            )

    def note(self, *, patient, encounter, scenario, author, at, note_type, chinese, codes, progress_day=None) -> None:
        lang = 1 if chinese else 0
        if progress_day is None:
            fields = {
                "chief_complaint": scenario.complaint[lang],
                "history_present_illness": scenario.history[lang],
                "past_history": ", ".join(scenario.chronic) or ("无特殊" if chinese else "Nil of note"),
                "examination": "神清，心肺查体见病历。" if chinese else "Alert; findings as documented.",
                "assessment": scenario.assessment[lang],
                "plan": scenario.plan[lang],
            }
        else:
            fields = {
                "chief_complaint": scenario.complaint[lang],
                "assessment": (
                    f"住院第{progress_day}天，病情平稳好转。" if chinese else f"Day {progress_day}: improving."
                ),
                "plan": "继续当前治疗。" if chinese else "Continue current treatment.",
            }
        note = ClinicalNote(
            patient=patient, encounter=encounter, author=author, note_type=note_type, thread=uuid.uuid4(), **fields
        )
        self.notes.append((note, codes, author, at))


@transaction.atomic
def clinical_records(*, seed: int, patient_ids: list[int], now: datetime | None = None) -> int:
    """Give each of these (demo) patients that has no encounter yet a chart; return how many got one."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(seed * 7919)
    wards = {w.code: w for w in Ward.objects.filter(code__in=list(SCENARIOS))}
    icd = {c.code: c for c in Icd10Code.objects.filter(code__in=_all_codes())}
    drugs = _drugs_by_name()
    staff = _ward_staff(wards)
    if not wards or not icd or not staff:
        return 0
    _ward_assignments(staff, wards, today)

    patients = list(Patient.objects.filter(pk__in=patient_ids, is_active=True, encounters__isnull=True).order_by("id"))
    if not patients:
        return 0
    build = _Builder(rng, now)
    inpatients = dict.fromkeys(wards, 0)
    for patient in patients:
        ward_code = _home_ward(rng, patient, today)
        scenario = rng.choice(SCENARIOS[ward_code])
        doctors, nurses = staff[ward_code]
        doctor, nurse = rng.choice(doctors), rng.choice(nurses)
        chinese = not patient.family_name.isascii()
        for visit in range(rng.randint(1, 3)):
            start = now - timedelta(days=rng.randint(30, 1000), hours=rng.randint(0, 8))
            encounter = Encounter(
                patient=patient, encounter_class="outpatient", status="finished", started_at=start,
                ended_at=start + timedelta(minutes=25), attending=doctor, reason=scenario.complaint[int(chinese)],
            )  # fmt: skip
            build.encounters.append(encounter)
            build.team.append((encounter, doctor, "attending"))
            build.vitals(patient=patient, encounter=encounter, scenario=scenario, at=start, by=nurse, severity=0.6)
            codes = [scenario.icd10] if visit == 0 else list(scenario.chronic)
            build.note(
                patient=patient, encounter=encounter, scenario=scenario, author=doctor, at=start,
                note_type="outpatient", chinese=chinese, codes=codes,
            )  # fmt: skip
        for code in (scenario.icd10, *scenario.chronic):
            if code in icd:
                build.conditions.append(
                    Condition(
                        patient=patient, icd10=icd[code], recorded_by=doctor, onset_date=today - timedelta(days=40)
                    )
                )
        if patient.allergy_status == Patient.AllergyStatus.HAS_ALLERGIES:
            substance, drug_name, reaction = rng.choice(ALLERGENS)
            build.allergies.append(
                Allergy(
                    patient=patient,
                    substance=substance,
                    drug=drugs.get(drug_name.lower()) if drug_name else None,
                    category="drug" if substance != "Shellfish" else "food",
                    reaction=reaction,
                    recorded_by=doctor,
                )  # fmt: skip
            )
        capacity = wards[ward_code].beds.count() * 0.7
        if rng.random() < 0.5 and inpatients[ward_code] < capacity:
            inpatients[ward_code] += 1
            _admission(build, patient, wards[ward_code], scenario, doctor, nurse, chinese, drugs, icd)

    _write(build)
    access_log_record(
        actor=None, action="create", object_type="emr.record", purpose=SEED_PURPOSE,
        detail={"patients": len(patients), "encounters": len(build.encounters), "notes": len(build.notes)},
    )  # fmt: skip
    return len(patients)


def _admission(build: _Builder, patient, ward, scenario, doctor, nurse, chinese, drugs, icd) -> None:
    rng, now = build.rng, build.now
    days = rng.randint(1, 9)
    admitted = now - timedelta(days=days, hours=rng.randint(1, 20))
    encounter = Encounter(
        patient=patient, encounter_class="inpatient", status="in_progress", started_at=admitted, ward=ward,
        attending=doctor, reason=scenario.complaint[int(chinese)],
    )  # fmt: skip
    build.encounters.append(encounter)
    build.team += [(encounter, doctor, "attending"), (encounter, nurse, "nurse")]
    build.note(
        patient=patient, encounter=encounter, scenario=scenario, author=doctor, at=admitted, note_type="admission",
        chinese=chinese, codes=[scenario.icd10, *scenario.chronic],
    )  # fmt: skip
    for day in range(2, days + 1, 2):
        build.note(
            patient=patient, encounter=encounter, scenario=scenario, author=doctor, note_type="progress",
            at=admitted + timedelta(days=day - 1), chinese=chinese, codes=[], progress_day=day,
        )  # fmt: skip
    # Vitals every 8 hours, settling towards normal; a few patients instead get slowly worse.
    worsening = rng.random() < 0.1
    taken = admitted
    while taken < now:
        progress = (taken - admitted) / max(now - admitted, timedelta(hours=1))
        severity = 1.0 + progress if worsening else 1.0 - 0.5 * progress
        build.vitals(patient=patient, encounter=encounter, scenario=scenario, at=taken, by=nurse, severity=severity)
        taken += timedelta(hours=8)
    for day in range(0, days + 1, 2):
        build.labs(
            patient=patient, encounter=encounter, scenario=scenario, at=admitted + timedelta(days=day), by=doctor
        )
    for name, dose, unit, route, frequency in scenario.drugs:
        drug = drugs.get(name.lower())
        if drug is not None:
            build.orders.append(
                MedicationOrder(
                    patient=patient,
                    encounter=encounter,
                    drug=drug,
                    dose=Decimal(dose),
                    dose_unit=unit,
                    route=route,
                    frequency=frequency,
                    ordered_by=doctor,
                    ordered_at=admitted,
                    duration_days=7,
                )  # fmt: skip
            )


def _write(build: _Builder) -> None:
    Encounter.objects.bulk_create(build.encounters, batch_size=1000)
    CareTeamMember.objects.bulk_create(
        [CareTeamMember(encounter=e, user=u, role=r) for e, u, r in build.team], batch_size=2000, ignore_conflicts=True
    )
    ClinicalNote.objects.bulk_create([note for note, *_rest in build.notes], batch_size=1000)
    icd = {c.code: c for c in Icd10Code.objects.filter(code__in=_all_codes())}
    diagnoses = [
        NoteDiagnosis(note=note, icd10=icd[code], rank=rank)
        for note, codes, *_rest in build.notes
        for rank, code in enumerate(dict.fromkeys(codes), start=1)
        if code in icd
    ]
    NoteDiagnosis.objects.bulk_create(diagnoses, batch_size=2000)
    # Signed last, each at its own time: once signed, the database refuses any change to a note or its diagnoses.
    rows = [(note.pk, written_at, author.pk) for note, _codes, author, written_at in build.notes]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            values = ", ".join(["(%s, %s::timestamptz, %s)"] * len(chunk))
            cursor.execute(
                "UPDATE emr_clinicalnote AS n SET created_at = v.at, status = 'signed', "  # noqa: S608 - placeholders only
                "signed_at = v.at + interval '1 hour', signed_by_id = v.author "
                f"FROM (VALUES {values}) AS v(id, at, author) WHERE n.id = v.id",
                [item for row in chunk for item in row],
            )
    Observation.objects.bulk_create(build.observations, batch_size=5000)
    Condition.objects.bulk_create(build.conditions, batch_size=2000)
    Allergy.objects.bulk_create(build.allergies, batch_size=2000)
    MedicationOrder.objects.bulk_create(build.orders, batch_size=2000)


def _all_codes() -> set[str]:
    return {code for scenarios in SCENARIOS.values() for s in scenarios for code in (s.icd10, *s.chronic)}


def _drugs_by_name() -> dict[str, Drug]:
    """Scenario drug names -> a formulary drug (by English name, Chinese name or synonym, as the scribe will)."""
    names = {name for scenarios in SCENARIOS.values() for s in scenarios for name, *_rest in s.drugs}
    names |= {drug_name for _substance, drug_name, _reaction in ALLERGENS if drug_name}
    drugs = {}
    for name in names:
        found = drug_lookup_by_name(name)
        if found:
            drugs[name.lower()] = found[0]
    return drugs


def _ward_staff(wards: dict[str, Ward]) -> dict[str, tuple[list[User], list[User]]]:
    """Doctors and nurses per ward: the ward staff accounts, plus the demo logins on their wards."""
    from hospital.demo.accounts import DEMO_WARDS

    staff: dict[str, tuple[list[User], list[User]]] = {code: ([], []) for code in wards}
    users = User.objects.filter(groups__name__in=["doctor", "nurse"]).prefetch_related("groups").distinct()
    for user in users.order_by("username"):
        code = DEMO_WARDS.get(user.username) or _ward_of_username(user.username)
        if code in staff:
            is_doctor = "doctor" in user.role_names
            staff[code][0 if is_doctor else 1].append(user)
    return {code: pair for code, pair in staff.items() if pair[0] and pair[1]}


def _ward_assignments(staff, wards, today: date) -> None:
    rows = [
        WardAssignment(ward=wards[code], user=user, role=role, starts_on=today - timedelta(days=365))
        for code, (doctors, nurses) in staff.items()
        for role, people in (("doctor", doctors), ("nurse", nurses))
        for user in people
    ]
    existing = set(WardAssignment.objects.values_list("ward_id", "user_id"))
    WardAssignment.objects.bulk_create([r for r in rows if (r.ward.pk, r.user.pk) not in existing])
