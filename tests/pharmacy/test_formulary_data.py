"""The essential medicines seed as data: size, codes, names, flags."""

import re
from collections import defaultdict

from emr.models import MedicationOrder
from pharmacy.formulary_data import ESSENTIAL_MEDICINES, FIELDS
from pharmacy.models import Drug
from pharmacy.services import ATC_PATTERN, ROUTES

ROWS = [dict(zip(FIELDS, row, strict=True)) for row in ESSENTIAL_MEDICINES]
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _rows(name, **match):
    return [row for row in ROWS if row["generic_name_en"] == name and all(row[k] == v for k, v in match.items())]


def test_the_seed_has_several_hundred_drugs():
    assert len(ROWS) >= 300
    assert len({row["generic_name_en"] for row in ROWS}) >= 150


def test_every_row_is_one_drug_form_and_strength():
    keys = [(row["generic_name_en"].casefold(), row["form"], row["strength"].casefold()) for row in ROWS]
    assert len(keys) == len(set(keys))


def test_atc_codes_are_well_formed_and_mostly_at_substance_level():
    assert all(ATC_PATTERN.match(row["atc_code"]) for row in ROWS)
    substance_level = [row for row in ROWS if len(row["atc_code"]) == 7]
    assert len(substance_level) / len(ROWS) > 0.97


def test_a_substance_code_names_one_substance():
    names_by_code = defaultdict(set)
    for row in ROWS:
        if len(row["atc_code"]) == 7:
            names_by_code[row["atc_code"]].add(row["generic_name_en"])
    # The WHO gives these codes to several products: a salt and its ester (cefuroxime / cefuroxime axetil),
    # "levodopa and decarboxylase inhibitor" (benserazide or carbidopa), and "electrolytes" (saline, Ringer's).
    shared = {"J01DC02", "N04BA02", "B05BB01"}
    assert {code for code, names in names_by_code.items() if len(names) > 1} <= shared


def test_well_known_codes():
    assert {row["atc_code"] for row in _rows("Amoxicillin")} == {"J01CA04"}
    assert {row["atc_code"] for row in _rows("Ceftriaxone")} == {"J01DD04"}
    assert {row["atc_code"] for row in _rows("Metformin")} == {"A10BA02"}
    assert {row["atc_code"] for row in _rows("Atorvastatin")} == {"C10AA05"}
    assert {row["atc_code"] for row in _rows("Paracetamol")} == {"N02BE01"}
    assert {row["atc_code"] for row in _rows("Aspirin", strength="75 mg")} == {"B01AC06"}


def test_every_row_has_a_chinese_generic_name():
    assert all(CJK.search(row["generic_name_zh"]) for row in ROWS)
    chinese = {row["generic_name_en"]: row["generic_name_zh"] for row in ROWS}
    assert chinese["Amoxicillin"] == "阿莫西林"
    assert chinese["Ceftriaxone"] == "头孢曲松"
    assert chinese["Metformin"] == "二甲双胍"
    assert chinese["Amlodipine"] == "氨氯地平"
    assert chinese["Atorvastatin"] == "阿托伐他汀"
    assert chinese["Heparin"] == "肝素"


def test_forms_and_routes_are_the_codes_the_models_use():
    assert {row["form"] for row in ROWS} <= set(Drug.Form.values)
    assert {row["route"] for row in ROWS} <= set(ROUTES)


def test_the_formulary_routes_are_the_medication_order_routes():
    assert set(ROUTES) == set(MedicationOrder.Route.values)


def test_high_alert_drugs_are_flagged():
    insulins = [row for row in ROWS if row["generic_name_en"].startswith("Insulin")]
    assert len(insulins) >= 8
    assert all(row["high_alert"] for row in insulins)
    always_flagged = (
        "Heparin", "Enoxaparin", "Warfarin", "Rivaroxaban", "Morphine", "Fentanyl", "Oxycodone", "Rocuronium",
        "Suxamethonium", "Propofol", "Cyclophosphamide", "Methotrexate", "Cisplatin", "Norepinephrine",
    )  # fmt: skip
    for name in always_flagged:
        rows = _rows(name)
        assert rows, name
        assert all(row["high_alert"] for row in rows), name
    concentrate = _rows("Potassium chloride", form=Drug.Form.INJECTION)
    assert concentrate and all(row["high_alert"] for row in concentrate)
    assert all(row["high_alert"] for row in _rows("Midazolam", form=Drug.Form.INJECTION))
    assert all(row["high_alert"] for row in _rows("Sodium chloride", strength="3%, 100 mL"))
    assert all(row["high_alert"] for row in _rows("Glucose", strength="50%, 20 mL"))


def test_everyday_drugs_are_not_flagged():
    for name in ("Paracetamol", "Amoxicillin", "Metformin", "Amlodipine", "Omeprazole", "Atorvastatin"):
        assert not any(row["high_alert"] for row in _rows(name)), name
    # Oral potassium and isotonic saline are not the concentrates.
    assert not any(row["high_alert"] for row in _rows("Potassium chloride", form=Drug.Form.TABLET))
    assert not any(row["high_alert"] for row in _rows("Sodium chloride", strength="0.9%, 500 mL"))


def test_synonyms_carry_brand_names_and_spoken_names():
    def synonyms(name):
        return {s for row in _rows(name) for s in row["synonyms"]}

    assert {"Tylenol", "acetaminophen", "Panadol"} <= synonyms("Paracetamol")
    assert {"ASA", "acetylsalicylic acid"} <= synonyms("Aspirin")
    assert "Glucophage" in synonyms("Metformin")
    assert "Lipitor" in synonyms("Atorvastatin")
    assert all(len(s) <= 100 for row in ROWS for s in row["synonyms"])
