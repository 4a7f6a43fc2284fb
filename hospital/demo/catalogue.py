"""What the demo hospital consists of: departments, wards, beds, and the names its people are drawn from."""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from hospital.demo.census import CensusProfile


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name_en: str
    name_zh: str
    specialty: str


@dataclass(frozen=True)
class WardSpec:
    department_code: str
    code: str
    name_en: str
    name_zh: str
    specialty: str
    beds: int
    bed_type: str
    census: CensusProfile
    isolation_beds: int = 0  # the last beds of the ward
    sex_policy: str = "mixed"
    isolation_capable: bool = False
    nursing_level: str = "standard"
    turnaround_target_minutes: int = 60
    doctors: int = 3
    nurses: int = 5


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("GM", "General Medicine", "普通内科", "general_medicine"),
    DepartmentSpec("CARD", "Cardiology", "心血管内科", "cardiology"),
    DepartmentSpec("RESP", "Respiratory and Critical Care Medicine", "呼吸与危重症医学科", "respiratory"),
    DepartmentSpec("GS", "General Surgery", "普通外科", "general_surgery"),
    DepartmentSpec("ORTH", "Orthopaedics", "骨科", "orthopaedics"),
    DepartmentSpec("PAED", "Paediatrics", "儿科", "paediatrics"),
    DepartmentSpec("OBS", "Obstetrics", "产科", "obstetrics"),
    DepartmentSpec("ICU", "Critical Care Medicine", "重症医学科", "critical_care"),
)

_TO_ICU = {"ICU1": 1.0}

WARDS: tuple[WardSpec, ...] = (
    WardSpec(
        "GM", "GM1", "General Medicine Ward 1", "普通内科一病区", "general_medicine", 36, "general",
        CensusProfile(8.0, 0.86, 0.25, winter_amplitude=0.12, transfer_out_rate=0.006, transfer_to=_TO_ICU),
    ),
    WardSpec(
        "CARD", "CARD1", "Cardiology Ward", "心血管内科病区", "cardiology", 30, "general",
        CensusProfile(6.0, 0.80, 0.45, winter_amplitude=0.10, transfer_out_rate=0.008, transfer_to=_TO_ICU),
        nursing_level="high_dependency",
    ),
    WardSpec(
        "RESP", "RESP1", "Respiratory Ward", "呼吸内科病区", "respiratory", 30, "general",
        CensusProfile(8.0, 0.78, 0.15, winter_amplitude=0.28, transfer_out_rate=0.006, transfer_to=_TO_ICU),
        isolation_beds=4, isolation_capable=True, turnaround_target_minutes=90,
    ),
    WardSpec(
        "GS", "GS1", "General Surgery Ward", "普通外科病区", "general_surgery", 32, "general",
        CensusProfile(6.0, 0.82, 0.70, winter_amplitude=0.03, transfer_out_rate=0.010, transfer_to=_TO_ICU),
    ),
    WardSpec(
        "ORTH", "ORTH1", "Orthopaedic Ward", "骨科病区", "orthopaedics", 28, "general",
        # Falls on ice add a small winter peak to a mostly booked (joint replacement) workload.
        CensusProfile(9.0, 0.82, 0.65, winter_amplitude=0.06, peak_day_of_year=10, transfer_out_rate=0.002,
                      transfer_to=_TO_ICU),
    ),
    WardSpec(
        "PAED", "PAED1", "Paediatric Ward", "儿科病区", "paediatrics", 20, "paediatric",
        CensusProfile(5.0, 0.72, 0.10, winter_amplitude=0.32, peak_day_of_year=15),
        isolation_beds=2, isolation_capable=True,
    ),
    WardSpec(
        "OBS", "OBS1", "Maternity Ward", "产科病区", "obstetrics", 16, "maternity",
        # Births in China peak in early autumn.
        CensusProfile(3.5, 0.75, 0.30, winter_amplitude=0.05, peak_day_of_year=270, transfer_out_rate=0.003,
                      transfer_to=_TO_ICU),
        sex_policy="female", turnaround_target_minutes=45, doctors=2, nurses=4,
    ),
    WardSpec(
        "ICU", "ICU1", "Intensive Care Unit", "重症监护病房", "critical_care", 8, "icu",
        # Most ICU patients leave by stepping down to a ward, few go home from the ICU.
        CensusProfile(25.0, 0.80, 0.30, winter_amplitude=0.10, transfer_out_rate=0.14,
                      transfer_to={"GM1": 3.0, "CARD1": 2.0, "RESP1": 2.0, "GS1": 2.0, "ORTH1": 0.5}),
        isolation_beds=1, isolation_capable=True, nursing_level="intensive", turnaround_target_minutes=90,
        doctors=3, nurses=6,
    ),
)  # fmt: skip

# --- names ---------------------------------------------------------------------------------------
# (Han characters, pinyin)
CHINESE_FAMILY_NAMES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
    ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("林", "Lin"),
    ("高", "Gao"), ("罗", "Luo"), ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"),
    ("唐", "Tang"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"), ("欧阳", "Ouyang"),
)  # fmt: skip
CHINESE_GIVEN_NAMES = {
    "male": (
        ("伟", "Wei"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"),
        ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("浩然", "Haoran"), ("子轩", "Zixuan"),
        ("宇航", "Yuhang"), ("建国", "Jianguo"), ("志强", "Zhiqiang"), ("俊杰", "Junjie"), ("文博", "Wenbo"),
        ("家豪", "Jiahao"), ("国平", "Guoping"), ("德华", "Dehua"),
    ),
    "female": (
        ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"), ("艳", "Yan"),
        ("娟", "Juan"), ("霞", "Xia"), ("婷", "Ting"), ("雪", "Xue"), ("欣怡", "Xinyi"), ("梓涵", "Zihan"),
        ("雨桐", "Yutong"), ("秀英", "Xiuying"), ("桂兰", "Guilan"), ("佳琪", "Jiaqi"), ("思雨", "Siyu"),
        ("晓燕", "Xiaoyan"), ("淑珍", "Shuzhen"), ("美玲", "Meiling"),
    ),
}  # fmt: skip
ENGLISH_FAMILY_NAMES = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker",
    "Wright", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Martin",
    "Clarke", "Jackson", "Lewis", "Robinson", "O'Brien", "Murphy", "Kelly", "Campbell",
)  # fmt: skip
ENGLISH_GIVEN_NAMES = {
    "male": (
        "James", "John", "Robert", "Michael", "David", "William", "Thomas", "Daniel", "Oliver", "George",
        "Harry", "Jack", "Samuel", "Peter", "Noah", "Edward",
    ),
    "female": (
        "Mary", "Emma", "Olivia", "Sophie", "Emily", "Charlotte", "Grace", "Hannah", "Lucy", "Sarah",
        "Anna", "Elizabeth", "Amelia", "Chloe", "Isla", "Margaret",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class PersonName:
    family: str  # as written: 张 or Smith
    given: str
    family_latin: str  # pinyin for Chinese names
    given_latin: str
    sex: str
    is_chinese: bool = field(default=False)

    @property
    def display(self) -> str:
        if self.is_chinese:
            return f"{self.family}{self.given} {self.family_latin} {self.given_latin}"
        return f"{self.given} {self.family}"

    @property
    def latin(self) -> str:
        # Chinese convention puts the family name first also in pinyin.
        if self.is_chinese:
            return f"{self.family_latin} {self.given_latin}"
        return f"{self.given_latin} {self.family_latin}"


def person_name(rng: random.Random, *, sex: str, chinese: bool) -> PersonName:
    if chinese:
        family, family_latin = rng.choice(CHINESE_FAMILY_NAMES)
        given, given_latin = rng.choice(CHINESE_GIVEN_NAMES[sex])
        return PersonName(family, given, family_latin, given_latin, sex, is_chinese=True)
    family, given = rng.choice(ENGLISH_FAMILY_NAMES), rng.choice(ENGLISH_GIVEN_NAMES[sex])
    return PersonName(family, given, family, given, sex)


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


# --- ward staff ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str  # a role name of hospital.core.roles
    name: PersonName
    ward_code: str


def ward_staff(*, seed: int) -> list[StaffSpec]:
    """Doctors and nurses of every demo ward (without logins), deterministic for a seed.

    Usernames start with the ward code ("gm1.zhang.wei"), so roster seeding can assign them to their ward.
    """
    rng = random.Random(f"staff:{seed}")  # noqa: S311 - reproducible demo data
    staff: list[StaffSpec] = []
    taken: set[str] = set()
    for ward in WARDS:
        for role, count, female_share in (("doctor", ward.doctors, 0.5), ("nurse", ward.nurses, 0.9)):
            for _ in range(count):
                sex = "female" if rng.random() < female_share else "male"
                name = person_name(rng, sex=sex, chinese=rng.random() < 0.85)
                base = f"{ward.code.lower()}.{ascii_slug(name.latin.split()[0])}.{ascii_slug(name.latin.split()[-1])}"
                username, suffix = base, 2
                while username in taken:
                    username, suffix = f"{base}{suffix}", suffix + 1
                taken.add(username)
                staff.append(StaffSpec(username, role, name, ward.code))
    return staff


# --- patients ------------------------------------------------------------------------------------
# Birth dates count back from a fixed day, not from today, so the same seed gives the same patients
# whenever it runs (that is what makes re-seeding idempotent).
BIRTH_REFERENCE = date(2025, 12, 31)
# (lowest age, highest age, weight): an inpatient population is older than the general one.
AGE_BANDS = ((0, 14, 0.12), (15, 44, 0.28), (45, 64, 0.28), (65, 95, 0.32))
ALLERGY_MIX = (("unknown", 0.45), ("no_known_allergies", 0.40), ("has_allergies", 0.15))


@dataclass(frozen=True)
class PatientSpec:
    name: PersonName
    birth_date: date
    allergy_status: str


def demo_patients(*, count: int, seed: int) -> list[PatientSpec]:
    """`count` distinct demo patients, about two in three with Chinese names.

    The first k patients are the same whatever the count, so a bigger re-seed only adds patients.
    """
    rng = random.Random(f"patients:{seed}")  # noqa: S311 - reproducible demo data
    patients: list[PatientSpec] = []
    seen: set[tuple[str, str, date]] = set()
    while len(patients) < count:
        sex = "female" if rng.random() < 0.5 else "male"
        name = person_name(rng, sex=sex, chinese=rng.random() < 0.65)
        low, high, _weight = rng.choices(AGE_BANDS, weights=[band[2] for band in AGE_BANDS])[0]
        age_days = rng.randint(low * 365, high * 365 + 364)
        birth_date = BIRTH_REFERENCE - timedelta(days=age_days)
        allergy = rng.choices([a for a, _ in ALLERGY_MIX], weights=[w for _, w in ALLERGY_MIX])[0]
        key = (name.family, name.given, birth_date)
        if key in seen:
            continue
        seen.add(key)
        patients.append(PatientSpec(name, birth_date, allergy))
    return patients
