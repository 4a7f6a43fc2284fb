"""Chinese consultations: the same record structure as English for the common fields.

Chief complaint and symptoms (with 没有/否认 negation, 可能/考虑 uncertainty and family members), medicines by
their Chinese formulary names and synonyms (阿莫西林, 泰诺林) with dose, unit, route and frequency (500毫克,
口服, 每日三次, 一天两次), allergies (对青霉素过敏; 没有过敏史 as an explicit none), vital signs (体温38.5度,
血压140/90, 心率, 血氧), diagnoses from the Chinese ICD-10 titles and common short names (高血压 -> I10,
心衰 -> I50.9), the examination and the plan. Chinese has no spaces, so names are found as substrings,
longest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ai.scribe.engine.icd import IcdCandidate
from ai.scribe.engine.numbers import NUMBER_ZH, format_number, parse_number_zh
from ai.scribe.engine.types import Field, Suggestion, Transcript
from ai.scribe.engine.units import TranscriptUnits, Unit
from ai.scribe.engine.vitals import extract_vitals
from ai.scribe.engine.vocabulary import Drug, Vocabulary

# canonical (Chinese) -> (English term, patterns)
SYMPTOMS_ZH: dict[str, tuple[str, tuple[str, ...]]] = {
    "发热": ("fever", ("发烧", "发热", "烧到", "低烧", "高烧", "体温高")),
    "咳嗽": ("cough", ("咳嗽", "咳得", "干咳", "咳痰")),
    "咳痰": ("sputum", ("有痰", "咳痰", "黄痰", "白痰")),
    "咽痛": ("sore throat", ("咽痛", "嗓子疼", "嗓子痛", "喉咙痛", "喉咙疼", "咽喉痛")),
    "流涕": ("runny nose", ("流鼻涕", "流涕", "鼻涕")),
    "鼻塞": ("nasal congestion", ("鼻塞", "鼻子不通")),
    "头痛": ("headache", ("头痛", "头疼", "偏头痛")),
    "头晕": ("dizziness", ("头晕", "头昏", "眩晕", "晕")),
    "胸痛": ("chest pain", ("胸痛", "胸口痛", "胸口疼", "胸疼", "胸闷")),
    "心悸": ("palpitations", ("心悸", "心慌", "心跳快")),
    "气短": ("shortness of breath", ("气短", "气促", "呼吸困难", "喘不上气", "喘不过气", "憋气", "气喘")),
    "腹痛": ("abdominal pain", ("腹痛", "肚子疼", "肚子痛", "胃痛", "胃疼", "肚子不舒服")),
    "恶心": ("nausea", ("恶心", "想吐")),
    "呕吐": ("vomiting", ("呕吐", "吐了", "吐")),
    "腹泻": ("diarrhea", ("腹泻", "拉肚子", "稀便", "拉稀")),
    "便秘": ("constipation", ("便秘", "大便干")),
    "乏力": ("fatigue", ("乏力", "没力气", "没劲", "疲劳", "累")),
    "食欲不振": ("loss of appetite", ("食欲不振", "没胃口", "不想吃饭", "食欲差")),
    "体重下降": ("weight loss", ("体重下降", "瘦了", "体重减轻")),
    "腰痛": ("back pain", ("腰痛", "腰疼", "背痛", "背疼")),
    "关节痛": ("joint pain", ("关节痛", "关节疼", "膝盖疼", "膝盖痛")),
    "皮疹": ("rash", ("皮疹", "起疹子", "疹子", "红疹", "荨麻疹")),
    "瘙痒": ("itching", ("瘙痒", "痒")),
    "尿频": ("urinary frequency", ("尿频", "老想上厕所")),
    "尿痛": ("painful urination", ("尿痛", "小便疼", "小便痛")),
    "失眠": ("insomnia", ("失眠", "睡不着", "睡不好")),
    "水肿": ("leg swelling", ("水肿", "腿肿", "脚肿", "浮肿")),
    "出汗": ("sweating", ("出汗", "盗汗")),
    "畏寒": ("chills", ("畏寒", "发冷", "寒战", "怕冷")),
}
# Common short names of conditions -> ICD-10 (the WHO leaf code the plain name stands for).
CONDITION_SYNONYMS_ZH: dict[str, str] = {
    "高血压": "I10",
    "糖尿病": "E14.9",
    "二型糖尿病": "E11.9",
    "2型糖尿病": "E11.9",
    "一型糖尿病": "E10.9",
    "感冒": "J00",
    "普通感冒": "J00",
    "上感": "J06.9",
    "上呼吸道感染": "J06.9",
    "流感": "J11.1",
    "肺炎": "J18.9",
    "支气管炎": "J40",
    "哮喘": "J45.9",
    "慢阻肺": "J44.9",
    "胃炎": "K29.7",
    "肠胃炎": "A09.9",
    "胃肠炎": "A09.9",
    "急性胃肠炎": "A09.9",
    "冠心病": "I25.1",
    "心衰": "I50.9",
    "心力衰竭": "I50.9",
    "房颤": "I48.9",
    "中风": "I64",
    "脑卒中": "I64",
    "脑梗": "I63.9",
    "心梗": "I21.9",
    "痛风": "M10.9",
    "偏头痛": "G43.9",
    "抑郁症": "F32.9",
    "焦虑症": "F41.9",
    "贫血": "D64.9",
    "尿路感染": "N39.0",
    "高血脂": "E78.5",
    "高脂血症": "E78.5",
    "甲亢": "E05.9",
    "甲减": "E03.9",
    "胆结石": "K80.2",
    "肾结石": "N20.0",
    "咽炎": "J02.9",
    "扁桃体炎": "J03.9",
    "过敏性鼻炎": "J30.4",
    "鼻炎": "J31.0",
    "湿疹": "L30.9",
    "荨麻疹": "L50.9",
    "带状疱疹": "B02.9",
    "骨质疏松": "M81.9",
    "关节炎": "M13.9",
    "新冠": "U07.1",
    "新冠肺炎": "U07.1",
    "痔疮": "K64.9",
    "胃溃疡": "K25.9",
    "脂肪肝": "K76.0",
}
DRUG_ALLERGENS_ZH: dict[str, tuple[str, str, str]] = {
    # mention -> (substance zh, substance en, category)
    "青霉素": ("青霉素", "penicillin", "drug"),
    "头孢": ("头孢菌素", "cephalosporins", "drug"),
    "磺胺": ("磺胺类", "sulfonamides", "drug"),
    "阿司匹林": ("阿司匹林", "aspirin", "drug"),
    "海鲜": ("海鲜", "seafood", "food"),
    "虾": ("虾", "shellfish", "food"),
    "花生": ("花生", "peanut", "food"),
    "鸡蛋": ("鸡蛋", "egg", "food"),
    "牛奶": ("牛奶", "milk", "food"),
    "花粉": ("花粉", "pollen", "environment"),
    "尘螨": ("尘螨", "house dust mite", "environment"),
    "酒精": ("酒精", "alcohol", "other"),
}
# reaction as said -> (as the note writes it, English)
REACTIONS_ZH = {
    "皮疹": ("皮疹", "rash"),
    "起疹子": ("皮疹", "rash"),
    "疹子": ("皮疹", "rash"),
    "荨麻疹": ("荨麻疹", "urticaria"),
    "瘙痒": ("瘙痒", "itching"),
    "痒": ("瘙痒", "itching"),
    "肿": ("肿胀", "swelling"),
    "呼吸困难": ("呼吸困难", "difficulty breathing"),
    "休克": ("过敏性休克", "anaphylaxis"),
    "过敏性休克": ("过敏性休克", "anaphylaxis"),
}
RELATIVES_ZH = {
    "父亲": "father",
    "爸爸": "father",
    "爸": "father",
    "母亲": "mother",
    "妈妈": "mother",
    "妈": "mother",
    "哥哥": "brother",
    "弟弟": "brother",
    "姐姐": "sister",
    "妹妹": "sister",
    "爷爷": "grandfather",
    "外公": "grandfather",
    "姥爷": "grandfather",
    "奶奶": "grandmother",
    "外婆": "grandmother",
    "姥姥": "grandmother",
    "儿子": "son",
    "女儿": "daughter",
}
NEGATION_ZH = re.compile(r"(?:没有|没|无|否认|不|未|并没有|从来没有|从没)[^，,。；;？?！!]{0,6}$")
# 考虑 ("consider") is how a Chinese note states its impression, so it is not an uncertainty cue here.
UNCERTAIN_ZH = re.compile(r"(?:可能|也许|疑似|不排除|待排|怀疑|估计|大概)")
FAMILY_ZH = re.compile(
    r"(?:父亲|母亲|爸爸|妈妈|爸|妈|哥哥|姐姐|弟弟|妹妹|爷爷|奶奶|外公|外婆|姥姥|姥爷|家里人|家族|家人|儿子|女儿)"
)
NO_ANSWER_ZH = re.compile(r"^(?:嗯[，,]?|呃[，,]?)?(?:没有|没|无|不|否|都没有)")
YES_ANSWER_ZH = re.compile(r"^(?:嗯[，,]?)?(?:有|是|对|嗯)")
DURATION_ZH = re.compile(r"(" + NUMBER_ZH + r"|几|好几|半)\s*(?:个)?(天|周|星期|个月|月|年|小时)(?:了|左右|多)?")
DOSE_UNITS_ZH = {
    "毫克": "mg",
    "mg": "mg",
    "克": "g",
    "g": "g",
    "微克": "mcg",
    "毫升": "mL",
    "ml": "mL",
    "片": "tablet",
    "粒": "capsule",
    "支": "ampoule",
    "袋": "sachet",
    "单位": "unit",
    "喷": "puff",
    "滴": "drop",
}
DOSE_ZH = re.compile(r"(" + NUMBER_ZH + r")\s*(毫克|mg|微克|毫升|ml|克|g|片|粒|支|袋|单位|喷|滴)")
FREQUENCIES_ZH: tuple[tuple[str, str], ...] = (
    (r"(?:每日|每天|一天|一日)(?:三|3)次|tid", "tid"),
    (r"(?:每日|每天|一天|一日)(?:两|二|2)次|bid", "bid"),
    (r"(?:每日|每天|一天|一日)(?:四|4)次|qid", "qid"),
    (r"(?:每日|每天|一天|一日)(?:一|1)次|每日|每天|qd", "qd"),
    (r"每(?:4|四)(?:个)?小时", "q4h"),
    (r"每(?:6|六)(?:个)?小时", "q6h"),
    (r"每(?:8|八)(?:个)?小时", "q8h"),
    (r"每(?:12|十二)(?:个)?小时", "q12h"),
    (r"每晚|睡前|晚上睡觉前", "qn"),
    (r"必要时|需要时|疼的时候|痛的时候|发烧的时候|需要的时候", "prn"),
)
FREQUENCY_LABELS_ZH = {
    "qd": "每日一次",
    "bid": "每日两次",
    "tid": "每日三次",
    "qid": "每日四次",
    "q4h": "每4小时",
    "q6h": "每6小时",
    "q8h": "每8小时",
    "q12h": "每12小时",
    "qn": "每晚",
    "prn": "必要时",
}
ROUTES_ZH: tuple[tuple[str, str], ...] = (
    (r"口服|吃", "oral"),
    (r"静脉|静滴|输液|点滴|吊瓶", "iv"),
    (r"肌注|肌肉注射|打屁股针", "im"),
    (r"皮下", "sc"),
    (r"吸入|喷", "inhaled"),
    (r"外用|涂|抹", "topical"),
    (r"舌下", "sublingual"),
    (r"塞肛|直肠", "rectal"),
)
ROUTE_LABELS_ZH = {
    "oral": "口服",
    "iv": "静脉",
    "im": "肌注",
    "sc": "皮下",
    "inhaled": "吸入",
    "topical": "外用",
    "sublingual": "舌下",
    "rectal": "直肠",
}
ALLERGY_NONE_ZH = re.compile(r"(?:没有|无|否认)(?:什么|任何)?(?:药物|食物)?过敏(?:史)?|不过敏|过敏史[:：]?(?:无|没有)")
ALLERGY_QUESTION_ZH = re.compile(r"过敏")
MED_NONE_ZH = re.compile(r"(?:没有|没|不)(?:在)?(?:吃|服用|用)(?:什么|任何)?(?:药)")
CC_QUESTION_ZH = re.compile(r"哪里不舒服|怎么了|什么问题|有什么不舒服|哪儿不舒服|什么情况")
EXAM_ZH = re.compile(
    r"听诊|检查|咽部|扁桃体|肺部|双肺|心脏|心律|腹部|压痛|红肿|呼吸音|啰音|杂音|充血|肿大|查体|体格检查"
)
ASSESSMENT_ZH = re.compile(r"考虑是|考虑为|诊断|应该是|可能是|初步|印象|看起来是|是.{0,4}(?:引起|导致)")
PLAN_ZH = re.compile(r"开(?:点|一些|些)?|建议|复查|复诊|做个|做一下|验个|查个|随访|回来|注意|多喝水|休息|给你|按时")
TESTS_ZH: dict[str, str] = {
    "血常规": "full blood count",
    "验血": "blood tests",
    "抽血": "blood tests",
    "尿常规": "urinalysis",
    "胸片": "chest X-ray",
    "拍片": "X-ray",
    "CT": "CT scan",
    "ct": "CT scan",
    "核磁": "MRI",
    "B超": "ultrasound",
    "b超": "ultrasound",
    "彩超": "ultrasound",
    "心电图": "ECG",
    "血糖": "blood glucose",
    "糖化血红蛋白": "HbA1c",
    "肝功能": "liver function tests",
    "肾功能": "renal function tests",
    "胃镜": "endoscopy",
    "肠镜": "colonoscopy",
}
FOLLOW_UP_ZH = re.compile(
    r"(?:((?:"
    + NUMBER_ZH
    + r"|几)\s*(?:个)?(?:天|周|星期|个月))(?:以?后|之后)?(?:再)?(?:来)?(?:复查|复诊|回来|随访))|复查|复诊|随访"
)


def extract_zh(transcript: Transcript, *, vocabulary: Vocabulary) -> list[Suggestion]:
    """Suggested record fields for a Chinese consultation."""
    from ai.scribe.engine.extract import finish

    units = TranscriptUnits(transcript)
    if not units.units:
        return []
    findings = _findings(units)
    conditions = _conditions(units, vocabulary)
    suggestions: list[Suggestion] = []
    suggestions += _chief_complaint(units, findings, conditions)
    suggestions += _history(units, findings)
    suggestions += _past_and_family(conditions, findings)
    medications = _medications(units, vocabulary)
    suggestions += medications
    suggestions += _allergies(units, vocabulary)
    suggestions += extract_vitals(units)
    suggestions += _examination(units)
    suggestions += _diagnoses(units, conditions, vocabulary)
    suggestions += _plan(units, medications)
    return finish(suggestions, transcript)


class _Item:
    def __init__(self, name: str, name_en: str, start: int, end: int, unit: Unit, code: str = "") -> None:
        self.name, self.name_en, self.start, self.end, self.unit, self.code = name, name_en, start, end, unit, code
        self.negated = self.uncertain = self.family = False
        self.relative = ""
        self.span_start, self.span_end = start, end
        self.confirmed = True


def _substrings(text: str, names: Iterable[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping occurrences of the names, longest first at each place."""
    keys = sorted(names, key=len, reverse=True)
    if not keys:
        return []
    pattern = re.compile("|".join(re.escape(k) for k in keys))
    return [(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]


def _flags(units: TranscriptUnits, item: _Item) -> _Item:
    unit = item.unit
    clause_start = max(
        [unit.start]
        + [unit.start + i + 1 for i, c in enumerate(units.low[unit.start : item.start]) if c in "，,；;：:"]
    )
    before = units.low[clause_start : item.start]
    if unit.question and unit.speaker != "patient":
        answer = units.answer_to(unit)
        if answer is None:
            item.confirmed = False
            return item
        answer_text = units.low[answer.start : answer.end]
        if NO_ANSWER_ZH.match(answer_text):
            item.negated = True
            match = NO_ANSWER_ZH.match(answer_text)
            assert match is not None
            item.span_end = answer.start + match.end()
        elif YES_ANSWER_ZH.match(answer_text) or item.name in answer_text:
            match = YES_ANSWER_ZH.match(answer_text)
            item.span_end = answer.start + (match.end() if match else len(answer_text))
        else:
            item.confirmed = False
        return item
    negation = NEGATION_ZH.search(before)
    if negation:
        item.negated = True
        item.span_start = clause_start + negation.start()
    uncertain = list(UNCERTAIN_ZH.finditer(units.low[unit.start : item.start]))
    if uncertain:
        item.uncertain = True
        item.span_start = min(item.span_start, unit.start + uncertain[-1].start())
    family = list(FAMILY_ZH.finditer(before))
    if family:
        item.family = True
        item.relative = RELATIVES_ZH.get(family[-1].group(), "family")
        item.span_start = min(item.span_start, clause_start + family[-1].start())
    return item


def _findings(units: TranscriptUnits) -> list[_Item]:
    patterns: dict[str, tuple[str, str]] = {}
    for canonical, (english, words) in SYMPTOMS_ZH.items():
        for word in words:
            patterns.setdefault(word, (canonical, english))
    out = []
    for start, end, word in _substrings(units.low, list(patterns)):
        unit = units.unit_at(start)
        if unit is None:
            continue
        if "过敏" in units.low[unit.start : unit.end]:
            continue  # "会起疹子" after an allergy describes the reaction, not a present symptom
        canonical, english = patterns[word]
        item = _flags(units, _Item(canonical, english, start, end, unit))
        if item.confirmed:
            out.append(item)
    return out


def _conditions(units: TranscriptUnits, vocabulary: Vocabulary) -> list[_Item]:
    aliases = vocabulary.icd_aliases_zh
    out = []
    for start, end, word in _substrings(units.low, aliases):
        unit = units.unit_at(start)
        if unit is None:
            continue
        code = aliases[word]
        if code.startswith("R"):
            continue  # symptoms are findings
        item = _flags(units, _Item(word, vocabulary.icd[code].title, start, end, unit, code))
        if item.confirmed:
            out.append(item)
    return out


def _chief_complaint(units: TranscriptUnits, findings: list[_Item], conditions: list[_Item]) -> list[Suggestion]:
    limit = max(6, len(units.units) // 3)
    for unit in units.units[:limit]:
        if unit.speaker == "doctor":
            continue
        turn = units.turn_units(unit)
        items = [
            x
            for x in (*findings, *conditions)
            if turn[0].start <= x.start < turn[-1].end and not x.negated and not x.family
        ]
        if not items:
            continue
        names: list[str] = []
        chosen = []
        for item in items:
            if item.name not in names and len(names) < 3:
                names.append(item.name)
                chosen.append(item)
        duration = DURATION_ZH.search(units.low, turn[0].start, turn[-1].end)
        text = "、".join(names) + (duration.group() if duration else "")
        end = max(max(c.end for c in chosen), duration.end() if duration else 0)
        return [
            Suggestion(
                "chief_complaint",
                text,
                min(c.start for c in chosen),
                end,
                0.8,
                value={
                    "terms": names,
                    "terms_en": [c.name_en for c in chosen],
                    "duration": duration.group() if duration else "",
                },
            )
        ]
    return []


def _history(units: TranscriptUnits, findings: list[_Item]) -> list[Suggestion]:
    out = []
    seen: set[tuple[str, bool]] = set()
    for item in findings:
        if item.family or (item.name, item.negated) in seen:
            continue
        seen.add((item.name, item.negated))
        duration = None if item.negated else DURATION_ZH.search(units.low, item.end, item.unit.end)
        text = f"否认{item.name}" if item.negated else item.name + (duration.group() if duration else "")
        out.append(
            Suggestion(
                "history_present_illness",
                text,
                min(item.start, item.span_start),
                max(item.end, item.span_end, duration.end() if duration else 0),
                0.8,
                value={
                    "finding": item.name,
                    "finding_en": item.name_en,
                    "present": not item.negated,
                    "duration": duration.group() if duration else "",
                },
                negated=item.negated,
                uncertain=item.uncertain,
            )
        )
    return [s for s in out if not (s.negated and (s.value["finding"], False) in seen)]


def _past_and_family(conditions: list[_Item], findings: list[_Item]) -> list[Suggestion]:
    out = []
    seen: set[str] = set()
    for item in (*conditions, *findings):
        if item.negated:
            continue
        field: Field
        if item.family:
            field, text = "family_history", item.name
            value: dict[str, object] = {
                "relative": item.relative or "family",
                "condition": item.name,
                "code": item.code,
            }
        elif item.code and item.unit.speaker == "patient":
            field, text = "past_history", item.name
            value = {"kind": "condition", "condition": item.name, "code": item.code}
        else:
            continue
        key = f"{field}:{item.name}"
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Suggestion(
                field,
                text,
                min(item.start, item.span_start),
                max(item.end, item.span_end),
                0.75,
                value=value,
                family=item.family,
            )
        )
    return out


def _medications(units: TranscriptUnits, vocabulary: Vocabulary) -> list[Suggestion]:
    names = {name: drug for name, drug in vocabulary.drug_names_zh.items() if len(name) >= 2}
    mentions = _substrings(units.text, names)
    out: dict[str, Suggestion] = {}
    for i, (start, end, word) in enumerate(mentions):
        unit = units.unit_at(start)
        if unit is None or "过敏" in units.low[max(unit.start, start - 3) : min(unit.end, end + 4)]:
            continue
        drug: Drug = names[word]
        item = _flags(units, _Item(drug.name_zh, drug.name_en, start, end, unit))
        if not item.confirmed or item.family:
            continue
        limit = unit.end
        following = units.units[unit.index + 1] if unit.index + 1 < len(units.units) else None
        if following is not None and following.turn == unit.turn:
            limit = following.end
        if i + 1 < len(mentions):
            limit = min(limit, mentions[i + 1][0])
        window = units.low[end:limit]
        value: dict[str, object] = {"dose": "", "unit": "", "route": "", "frequency": ""}
        span_end = end
        dose = DOSE_ZH.search(window)
        if dose and (number := parse_number_zh(dose.group(1))):
            value["dose"], value["unit"] = format_number(number), DOSE_UNITS_ZH[dose.group(2)]
            span_end = max(span_end, end + dose.end())
        for pattern, code in FREQUENCIES_ZH:
            match = re.search(pattern, window)
            if match:
                value["frequency"] = code
                span_end = max(span_end, end + match.end())
                break
        route_window = units.low[max(unit.start, start - 4) : limit]
        route_offset = max(unit.start, start - 4)
        for pattern, code in ROUTES_ZH:
            match = re.search(pattern, route_window)
            if match:
                value["route"] = code
                span_end = max(span_end, route_offset + match.end())
                start_route = route_offset + match.start()
                if start_route < start:
                    item.span_start = min(item.span_start, start_route)
                break
        value.update(
            {
                "name": drug.name_en,
                "name_zh": drug.name_zh,
                "mention": word,
                "drug_code": drug.atc_code,
                "in_formulary": drug.in_formulary,
                "formulary_routes": list(drug.routes),
                "high_alert": drug.high_alert,
                "status": "new"
                if unit.speaker == "doctor" and PLAN_ZH.search(units.low[unit.start : unit.end])
                else "current",
            }
        )
        parts = [drug.name_zh]
        if value["dose"]:
            parts.append(f"{value['dose']}{_unit_zh(str(value['unit']))}")
        if value["route"]:
            parts.append(ROUTE_LABELS_ZH[str(value["route"])])
        if value["frequency"]:
            parts.append(FREQUENCY_LABELS_ZH[str(value["frequency"])])
        suggestion = Suggestion(
            "medication",
            " ".join(parts) if not item.negated else f"未服用{drug.name_zh}",
            min(start, item.span_start),
            max(span_end, item.span_end),
            0.9 + 0.03 * sum(bool(value[k]) for k in ("dose", "route", "frequency")),
            value=value,
            negated=item.negated,
        )
        previous = out.get(drug.name_en)
        if previous is None or sum(bool(previous.value[k]) for k in ("dose", "route", "frequency")) <= sum(
            bool(value[k]) for k in ("dose", "route", "frequency")
        ):
            out[drug.name_en] = suggestion
    suggestions = sorted(out.values(), key=lambda s: s.span_start)
    if not suggestions:
        for unit in units.units:
            match = MED_NONE_ZH.search(units.low, unit.start, unit.end)
            if match and not unit.question:
                suggestions.append(
                    Suggestion(
                        "medication",
                        "目前未服用药物",
                        match.start(),
                        match.end(),
                        0.8,
                        value={"none": True, "name": "", "drug_code": ""},
                    )
                )
                break
    return suggestions


def _unit_zh(unit: str) -> str:
    return {
        "mg": "毫克",
        "g": "克",
        "mcg": "微克",
        "mL": "毫升",
        "tablet": "片",
        "capsule": "粒",
        "unit": "单位",
        "puff": "喷",
        "drop": "滴",
    }.get(unit, unit)


def _allergies(units: TranscriptUnits, vocabulary: Vocabulary) -> list[Suggestion]:
    out: list[Suggestion] = []
    none: Suggestion | None = None
    seen: set[str] = set()
    allergens: dict[str, tuple[str, str, str]] = dict(DRUG_ALLERGENS_ZH)
    for name, drug in vocabulary.drug_names_zh.items():
        allergens.setdefault(name, (drug.name_zh, drug.name_en.lower(), "drug"))
    for unit in units.units:
        sentence = units.low[unit.start : unit.end]
        if "过敏" not in sentence:
            continue
        match = ALLERGY_NONE_ZH.search(sentence)
        if match and not unit.question:
            none = none or Suggestion(
                "allergy",
                "无已知药物过敏",
                unit.start + match.start(),
                unit.start + match.end(),
                0.9,
                value={"substance": "", "reaction": "", "none": True},
            )
            continue
        if unit.question and unit.speaker != "patient":
            answer = units.answer_to(unit)
            if answer is not None and NO_ANSWER_ZH.match(units.low[answer.start : answer.end]) and none is None:
                no = NO_ANSWER_ZH.match(units.low[answer.start : answer.end])
                assert no is not None
                none = Suggestion(
                    "allergy",
                    "无已知药物过敏",
                    unit.start + sentence.index("过敏"),
                    answer.start + no.end(),
                    0.85,
                    value={"substance": "", "reaction": "", "none": True},
                )
            continue
        for start, end, word in _substrings(sentence, allergens):
            substance_zh, substance_en, category = allergens[word]
            if substance_en in seen:
                continue
            seen.add(substance_en)
            reaction = reaction_zh = ""
            reaction_end = 0
            for r_start, r_end, r_word in _substrings(sentence, REACTIONS_ZH):
                if r_start > end:
                    (reaction_zh, reaction), reaction_end = REACTIONS_ZH[r_word], unit.start + r_end
                    break
            cue = sentence.find("过敏")
            out.append(
                Suggestion(
                    "allergy",
                    substance_zh + (f"（{reaction_zh}）" if reaction_zh else ""),
                    unit.start + min(start, cue),
                    max(unit.start + max(end, cue + 2), reaction_end),
                    0.88,
                    value={
                        "substance": substance_en,
                        "substance_zh": substance_zh,
                        "category": category,
                        "reaction": reaction,
                        "none": False,
                    },
                )
            )
    if none is not None and not out:
        out.append(none)
    return out


def _examination(units: TranscriptUnits) -> list[Suggestion]:
    out = []
    for unit in units.units:
        sentence = units.text[unit.start : unit.end]
        if unit.speaker == "patient" or unit.question or not EXAM_ZH.search(sentence) or len(sentence) < 5:
            continue
        if re.search(r"(?:我来|我给你|让我|我看一下|我听一下)", sentence) and not re.search(
            r"(?:红|肿|大|清|音|压痛|正常|异常)", sentence
        ):
            continue
        out.append(
            Suggestion("examination", sentence.strip("，,。 "), unit.start, unit.end, 0.7, value={"kind": "exam"})
        )
    return out


def _diagnoses(units: TranscriptUnits, conditions: list[_Item], vocabulary: Vocabulary) -> list[Suggestion]:
    out = []
    seen: set[str] = set()
    for item in conditions:
        if item.negated or item.family or item.code in seen:
            continue
        seen.add(item.code)
        unit = item.unit
        in_assessment = unit.speaker != "patient" and bool(ASSESSMENT_ZH.search(units.low[unit.start : unit.end]))
        confidence = (0.9 if in_assessment else 0.6) * (0.7 if item.uncertain else 1.0)
        icd = vocabulary.icd[item.code]
        candidate = IcdCandidate(item.code, icd.title, 0.9, "synonym")
        out.append(
            Suggestion(
                "diagnosis",
                icd.title_zh or item.name,
                min(item.start, item.span_start),
                max(item.end, item.span_end),
                confidence,
                value={
                    "code": item.code,
                    "title": icd.title,
                    "title_zh": icd.title_zh,
                    "mention": item.name,
                    "candidates": [candidate.as_dict()],
                },
                uncertain=item.uncertain,
            )
        )
        if in_assessment:
            out.append(
                Suggestion(
                    "assessment",
                    units.text[unit.start : unit.end].strip("，,。 "),
                    unit.start,
                    unit.end,
                    0.7,
                    value={"kind": "assessment"},
                    uncertain=item.uncertain,
                )
            )
    return out


def _plan(units: TranscriptUnits, medications: list[Suggestion]) -> list[Suggestion]:
    out = [
        Suggestion(
            "plan",
            f"开具{m.text}",
            m.span_start,
            m.span_end,
            m.confidence * 0.95,
            value={"kind": "medication", "action": "start", "medication": dict(m.value)},
        )
        for m in medications
        if m.value.get("status") == "new" and not m.negated
    ]
    seen: set[str] = set()
    for unit in units.units:
        if unit.speaker == "patient" or unit.question:
            continue
        sentence = units.text[unit.start : unit.end]
        if not PLAN_ZH.search(sentence):
            continue
        for start, end, word in _substrings(sentence, TESTS_ZH):
            name = TESTS_ZH[word]
            if f"test:{name}" in seen:
                continue
            seen.add(f"test:{name}")
            out.append(
                Suggestion(
                    "plan", word, unit.start + start, unit.start + end, 0.75, value={"kind": "test", "test": name}
                )
            )
        follow = FOLLOW_UP_ZH.search(sentence)
        if follow and "follow_up" not in seen:
            seen.add("follow_up")
            out.append(
                Suggestion(
                    "plan",
                    follow.group(),
                    unit.start + follow.start(),
                    unit.start + follow.end(),
                    0.75,
                    value={"kind": "follow_up", "interval": follow.group(1) or ""},
                )
            )
        if re.search(r"多喝水|休息|清淡|忌口|戒烟|戒酒|少吃|运动", sentence) and "advice" not in seen:
            seen.add("advice")
            out.append(
                Suggestion("plan", sentence.strip("，,。 "), unit.start, unit.end, 0.6, value={"kind": "advice"})
            )
    return out
