"""manage.py formulary_load: the seed, or a hospital's CSV, all or nothing with line numbers."""

import pytest
from django.core.management import CommandError, call_command

from pharmacy.formulary_data import ESSENTIAL_MEDICINES
from pharmacy.models import Drug

pytestmark = pytest.mark.django_db

HEADER = "generic_name_en,generic_name_zh,form,strength,route,atc_code,high_alert,synonyms,is_active\n"


def _csv(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "formulary.csv"
    path.write_text(text, encoding=encoding)
    return str(path)


def _run(*args):
    from io import StringIO

    out = StringIO()
    call_command("formulary_load", *args, stdout=out)
    return out.getvalue()


def test_without_a_file_it_syncs_the_seed(formulary):
    assert _run() == f"Formulary: 0 created, 0 updated, {len(ESSENTIAL_MEDICINES)} unchanged.\n"


def test_a_valid_csv_creates_and_updates(tmp_path, formulary):
    path = _csv(
        tmp_path,
        HEADER
        + "Amoxicillin,阿莫西林,capsule,500 mg,oral,J01CA04,no,Amoxil|阿莫仙|院内简称,yes\n"
        + '"Heparin, low-dose flush",肝素封管液,injection,"10 IU/mL, 5 mL",iv,B01AB01,yes,heparin flush,\n',
        encoding="utf-8-sig",  # with a byte-order mark, as spreadsheet programs write it
    )

    output = _run("--file", path)

    assert output == "Formulary: 1 created, 1 updated, 0 unchanged.\n"
    flush = Drug.objects.get(generic_name_en="Heparin, low-dose flush")
    assert (flush.strength, flush.high_alert, flush.is_active, flush.synonyms) == (
        "10 IU/mL, 5 mL", True, True, ["heparin flush"]
    )  # fmt: skip
    assert "院内简称" in Drug.objects.get(generic_name_en="Amoxicillin", form="capsule", strength="500 mg").synonyms


def test_a_bad_line_is_reported_with_its_number_and_nothing_is_written(tmp_path, formulary):
    count = Drug.objects.count()
    path = _csv(
        tmp_path,
        HEADER
        + "New drug one,新药一,tablet,10 mg,oral,N02BE01,no,,\n"
        + "New drug two,新药二,pill,10 mg,oral,N02BE01,no,,\n"
        + "New drug three,新药三,tablet,10 mg,by mouth,XYZ,no,,\n",
    )

    with pytest.raises(CommandError) as excinfo:
        _run("--file", path)

    message = str(excinfo.value)
    assert "nothing was written" in message
    assert "line 3: form" in message
    assert "line 4: route" in message
    assert "line 4: atc_code" in message
    assert "line 2" not in message
    assert Drug.objects.count() == count
    assert not Drug.objects.filter(generic_name_en__startswith="New drug").exists()


def test_missing_and_unknown_columns_are_reported(tmp_path, db):
    path = _csv(tmp_path, "generic_name_en,form,strength,route,atc_code,colour\nX,tablet,1 mg,oral,A01\n")

    with pytest.raises(CommandError) as excinfo:
        _run("--file", path)

    assert "line 1: missing columns: generic_name_zh" in str(excinfo.value)
    assert "line 1: unknown columns: colour" in str(excinfo.value)


def test_a_line_with_too_many_cells_is_reported(tmp_path, db):
    path = _csv(tmp_path, HEADER + "A,甲,tablet,1 mg,oral,A01,no,,yes,surplus\n")

    with pytest.raises(CommandError, match="line 2: more cells than columns"):
        _run("--file", path)


def test_the_same_drug_twice_is_reported_with_both_lines(tmp_path, db):
    path = _csv(tmp_path, HEADER + "A,甲,tablet,1 mg,oral,A01,,,\n\nA,甲,tablet,1 MG,oral,A01,,,\n")

    with pytest.raises(CommandError, match="line 4: the same drug, form and strength as line 2"):
        _run("--file", path)
    assert not Drug.objects.filter(generic_name_en="A").exists()


def test_optional_columns_left_out_keep_the_stored_values(tmp_path, formulary):
    Drug.objects.filter(generic_name_en="Warfarin").update(is_active=False)
    path = _csv(tmp_path, "generic_name_en,generic_name_zh,form,strength,route,atc_code\n"
                "Warfarin,华法林钠,tablet,3 mg,oral,B01AA03\n")  # fmt: skip

    assert _run("--file", path) == "Formulary: 0 created, 1 updated, 0 unchanged.\n"

    warfarin = Drug.objects.get(generic_name_en="Warfarin", strength="3 mg")
    assert (warfarin.generic_name_zh, warfarin.high_alert, warfarin.is_active) == ("华法林钠", True, False)
    assert "Coumadin" in warfarin.synonyms


def test_dry_run_validates_and_writes_nothing(tmp_path, db):
    path = _csv(tmp_path, HEADER + "A,甲,tablet,1 mg,oral,A01,,,\n")

    output = _run("--file", path, "--dry-run")

    assert output == "Formulary: 1 created, 0 updated, 0 unchanged (dry run: nothing written).\n"
    assert not Drug.objects.filter(generic_name_en="A").exists()


def test_an_empty_file_or_a_missing_file_is_an_error(tmp_path, db):
    with pytest.raises(CommandError, match="The file has no drugs"):
        _run("--file", _csv(tmp_path, HEADER))
    with pytest.raises(CommandError, match="Cannot read"):
        _run("--file", str(tmp_path / "absent.csv"))
    with pytest.raises(CommandError, match="not UTF-8"):
        _run("--file", _csv(tmp_path, HEADER + "A,阿莫西林,tablet,1 mg,oral,A01,,,\n", encoding="gbk"))
