"""Patient search on 100,000 patients: p50/p95 by name and by ID number, and how long loading them took.

Creates a throwaway database next to DATABASE_URL's (bench_patient_search_<pid>), migrates it, loads
N generated patients (about 70 % Chinese names, 30 % Latin; every one with a valid resident ID number
and a mobile number, both encrypted with their blind indexes, as the registration service stores them),
then times `emr.selectors.patients.patient_search` as a records archivist (who searches the whole
hospital) for Q name queries (half typed exactly, half with one character changed) and Q ID-number
queries. Each timing is the whole selector call, its access-log entry included. Prints the EXPLAIN of
one name search, so the trigram indexes can be seen at work, and drops the database at the end.

    python bench/patient_search.py [--patients 100000] [--queries 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BASE_DIR))
from _machine import machine_line, table  # noqa: E402
from api_read import throwaway_database  # noqa: E402

CN_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
CN_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉萍文辉鹏飞海燕云晓雪梅春丹宇浩然子涵欣怡佳琪"
LATIN_FAMILY = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
]
LATIN_GIVEN = [
    "Anna",
    "John",
    "Maria",
    "David",
    "Sarah",
    "James",
    "Laura",
    "Peter",
    "Emma",
    "Michael",
    "Olivia",
    "Daniel",
    "Sophie",
    "Thomas",
    "Julia",
    "Robert",
    "Clara",
    "Lucas",
    "Nora",
    "Henry",
]


def _resident_id(rng: random.Random, birth: date) -> str:
    from emr.services.patients import cn_resident_id_check_character

    body = f"{rng.randint(110000, 659000)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + cn_resident_id_check_character(body)


def _person(rng: random.Random, index: int) -> dict:
    birth = date(1930, 1, 1) + timedelta(days=rng.randint(0, 33000))
    if rng.random() < 0.7:
        family, given = rng.choice(CN_FAMILY), "".join(rng.choice(CN_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    else:
        family, given = rng.choice(LATIN_FAMILY), rng.choice(LATIN_GIVEN)
    return {
        "family_name": family,
        "given_name": given,
        "sex": rng.choice(("female", "male")),
        "birth_date": birth,
        "national_id": _resident_id(rng, birth),
        "phone": f"1{rng.choice((3, 5, 8))}{index:09d}",
    }


def load_patients(count: int, rng: random.Random) -> tuple[float, list[dict]]:
    """Insert `count` patients with bulk_create (the fields encrypt per row in pre_save); returns (seconds, people)."""
    from emr.models import Patient

    people = [_person(rng, i) for i in range(count)]
    started = time.perf_counter()
    batch = 2000
    for start in range(0, count, batch):
        # external_id is set here because the ciphertext is bound to it.
        rows = [Patient(external_id=uuid.uuid4(), **person) for person in people[start : start + batch]]
        Patient.objects.bulk_create(rows, batch_size=batch)
    return time.perf_counter() - started, people


def _typo(rng: random.Random, text: str, alphabet: str) -> str:
    position = rng.randrange(len(text))
    return text[:position] + rng.choice(alphabet) + text[position + 1 :]


def name_queries(rng: random.Random, people: list[dict], count: int) -> list[str]:
    queries = []
    for i in range(count):
        person = rng.choice(people)
        family, given = person["family_name"], person["given_name"]
        if family in LATIN_FAMILY:
            query = f"{given} {family}"
            queries.append(query if i % 2 == 0 else _typo(rng, query, "aeiou"))
        else:
            query = family + given
            queries.append(query if i % 2 == 0 or len(query) < 3 else query[:-1] + rng.choice(CN_GIVEN))
    return queries


def timed(queries: list[str], user) -> tuple[list[float], int]:
    from emr.selectors.patients import patient_search

    durations, found = [], 0
    for query in queries:
        started = time.perf_counter()
        results = patient_search(query=query, fetched_by=user, limit=20)
        durations.append((time.perf_counter() - started) * 1000)
        found += bool(results)
    return durations, found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def explain_name_search(query: str) -> str:
    from django.db import connection

    from emr.models import Patient
    from emr.selectors.patients import SEARCH_KIND_NAME, _search_queryset

    sql, params = _search_queryset(query, SEARCH_KIND_NAME, Patient.objects.filter(is_active=True))[
        :20
    ].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        print("DATABASE_URL must point at a PostgreSQL server where a database can be created.", file=sys.stderr)
        return 2
    os.environ["DJANGO_SETTINGS_MODULE"] = "hospital.settings"
    os.environ["DEBUG"] = "False"  # DEBUG keeps every query in memory
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    rng = random.Random(args.seed)

    with throwaway_database(base_url.replace("bench_api_read", "bench_patient_search")) as database_url:
        os.environ["DATABASE_URL"] = database_url
        import django

        django.setup()
        from django.contrib.auth.models import Group
        from django.core.management import call_command
        from django.db import connection

        from hospital.core.models import User

        call_command("migrate", verbosity=0)
        archivist = User.objects.create(username="bench-archivist")
        archivist.groups.add(Group.objects.get(name="records_archivist"))

        load_seconds, people = load_patients(args.patients, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE emr_patient")

        names = name_queries(rng, people, args.queries)
        ids = [rng.choice(people)["national_id"] for _ in range(args.queries)]
        timed(names[:10] + ids[:10], archivist)  # warm caches and connections; not counted
        name_ms, name_found = timed(names, archivist)
        id_ms, id_found = timed(ids, archivist)

        rows = [("Measure", "p50", "p95", "found")]
        rows.append((f"search by name ({len(names)} queries)", f"{statistics.median(name_ms):.1f} ms",
                     f"{percentile(name_ms, 0.95):.1f} ms", f"{name_found}/{len(names)}"))  # fmt: skip
        rows.append((f"search by resident ID ({len(ids)} queries)", f"{statistics.median(id_ms):.1f} ms",
                     f"{percentile(id_ms, 0.95):.1f} ms", f"{id_found}/{len(ids)}"))  # fmt: skip
        print(f"\nEXPLAIN of a name search ({names[1]!r}):\n{explain_name_search(names[1])}\n")
        print(f"loaded {args.patients:,} patients (encrypted national ID and phone, blind indexes) "
              f"with bulk_create in {load_seconds:.1f} s ({args.patients / load_seconds:,.0f} rows/s)")  # fmt: skip
        print(table(rows))
        print(f"command: python bench/patient_search.py --patients {args.patients} --queries {args.queries}")
        print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
