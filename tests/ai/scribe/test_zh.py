"""Chinese consultations give the same record structure: complaint, medicines, allergies, vitals, diagnoses."""

from __future__ import annotations

from ai.scribe.engine.extract import extract
from ai.scribe.engine.summary import summarise
from ai.scribe.engine.types import Suggestion, Transcript
from tests.ai.scribe.test_extract_support import assert_supported, vocabulary_without_encoder

CONSULTATION = [
    ("doctor", "你好，哪里不舒服？"),
    ("patient", "我发烧咳嗽三天了，还有点头痛。"),
    ("doctor", "有没有胸痛？"),
    ("patient", "没有。"),
    ("doctor", "对什么药过敏吗？"),
    ("patient", "我对青霉素过敏，会起疹子。"),
    ("doctor", "平时吃什么药？"),
    ("patient", "我有高血压，每天吃氨氯地平5毫克，一天一次。我爸爸有糖尿病。"),
    ("doctor", "我给你量一下。体温38.5度，血压140/90，心率96次每分，血氧98%。咽部充血，双肺呼吸音粗。"),
    (
        "doctor",
        "考虑是急性上呼吸道感染。给你开阿莫西林胶囊0.5克，口服，每日三次，再开布洛芬，发烧的时候吃。多喝水，三天后复查血常规。",
    ),
]


def run(turns) -> tuple[Transcript, list[Suggestion]]:
    transcript = Transcript.from_turns(turns, language="zh")
    return transcript, extract(transcript, vocabulary=vocabulary_without_encoder())


def of(suggestions: list[Suggestion], field: str) -> list[Suggestion]:
    return [s for s in suggestions if s.field == field]


def test_a_chinese_consultation_end_to_end():
    transcript, suggestions = run(CONSULTATION)

    [complaint] = of(suggestions, "chief_complaint")
    assert complaint.value["terms"] == ["发热", "咳嗽", "头痛"]
    assert complaint.value["terms_en"] == ["fever", "cough", "headache"]

    denied = [s for s in of(suggestions, "history_present_illness") if s.negated]
    assert [s.value["finding"] for s in denied] == ["胸痛"]

    medicines = {s.value["name_zh"]: s.value for s in of(suggestions, "medication")}
    assert medicines["氨氯地平"]["drug_code"] == "C08CA01"
    assert (medicines["氨氯地平"]["dose"], medicines["氨氯地平"]["unit"], medicines["氨氯地平"]["frequency"]) == (
        "5",
        "mg",
        "qd",
    )
    amoxicillin = medicines["阿莫西林"]
    assert (amoxicillin["dose"], amoxicillin["unit"], amoxicillin["route"], amoxicillin["frequency"]) == (
        "0.5",
        "g",
        "oral",
        "tid",
    )
    assert amoxicillin["status"] == "new"
    assert medicines["布洛芬"]["frequency"] == "prn"

    [allergy] = of(suggestions, "allergy")
    assert allergy.value["substance"] == "penicillin"
    assert allergy.value["reaction"] == "rash"
    assert allergy.text == "青霉素（皮疹）"

    vitals = {s.value["kind"]: (s.value["value"], s.value["unit"]) for s in of(suggestions, "vital_sign")}
    assert vitals == {
        "temperature": (38.5, "Cel"),
        "systolic_bp": (140.0, "mm[Hg]"),
        "diastolic_bp": (90.0, "mm[Hg]"),
        "heart_rate": (96.0, "/min"),
        "spo2": (98.0, "%"),
    }

    diagnoses = {s.value["code"]: s for s in of(suggestions, "diagnosis")}
    assert set(diagnoses) == {"I10", "J06.9"}
    assert diagnoses["J06.9"].confidence > diagnoses["I10"].confidence

    [family] = of(suggestions, "family_history")
    assert (family.value["relative"], family.value["code"], family.family) == ("father", "E14.9", True)

    plan = {s.value["kind"] for s in of(suggestions, "plan")}
    assert {"medication", "test", "follow_up"} <= plan

    for suggestion in suggestions:
        assert_supported(transcript, suggestion, vocabulary_without_encoder())


def test_chinese_frequencies_and_spoken_numbers():
    _transcript, suggestions = run([("doctor", "二甲双胍五百毫克，一天两次，饭后吃。")])

    [metformin] = of(suggestions, "medication")
    assert (metformin.value["dose"], metformin.value["unit"], metformin.value["frequency"]) == ("500", "mg", "bid")


def test_no_allergy_history_is_an_explicit_none():
    _transcript, suggestions = run([("doctor", "有药物过敏吗？"), ("patient", "没有。")])

    [allergy] = of(suggestions, "allergy")
    assert allergy.value["none"] is True
    assert allergy.text == "无已知药物过敏"


def test_the_chinese_summary_states_the_fields():
    _transcript, suggestions = run(CONSULTATION)

    summary = summarise(suggestions, language="zh")

    assert summary.startswith("主诉：发热、咳嗽、头痛三天了。")
    assert "否认胸痛" in summary
    assert "过敏史：青霉素（皮疹）" in summary
    assert "血压140/90 mmHg" in summary
    assert "急性上呼吸道感染" in summary
