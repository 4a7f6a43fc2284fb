# ruff: noqa: E501 - each pattern stays on one line, so a reviewer reads it whole
"""From a transcript to suggested record fields, each with its source span and a confidence.

`extract(transcript)` finds, in an English consultation: the chief complaint, the history of the present
illness (symptoms present and denied, with their duration), past and family history, medicines (matched to
the formulary, with dose, unit, route, frequency), allergies (or an explicit none), vital signs with units,
the examination, the assessment with ICD-10 diagnoses (top 3, exact and synonym matches first, then ranked
by the sentence encoder), and the plan (tests, medicines, referrals, follow-up). Chinese consultations go to
zh.extract_zh, which gives the same structure for the common fields.

Every suggestion's span is a stretch of `transcript.text` that holds the words it rests on; nothing is
suggested from outside the transcript. Negation ("denies chest pain"), uncertainty ("possible pneumonia")
and family history ("mother had diabetes") set the suggestion's flags; a question the patient answered
"no" denies what it asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ai.scribe.engine import rewrite
from ai.scribe.engine.allergies import extract_allergies
from ai.scribe.engine.icd import IcdCandidate, IcdRanker
from ai.scribe.engine.lexicon import SYMPTOMS, TESTS, compiled
from ai.scribe.engine.medications import extract_medications, find_drug_mentions, medication_text
from ai.scribe.engine.negation import Assertion, assertion
from ai.scribe.engine.types import FIELDS, Suggestion, Transcript
from ai.scribe.engine.units import TranscriptUnits, Unit
from ai.scribe.engine.vitals import extract_vitals
from ai.scribe.engine.vocabulary import Vocabulary

RULES_MODEL = "scribe-rules"
RULES_VERSION = "1"

BODY_PARTS = (
    "head|neck|shoulders?|arms?|elbows?|wrists?|hands?|fingers?|thumbs?|chest|breasts?|back|hips?|legs?|knees?|ankles?|"
    "feet|foot|toes?|ears?|eyes?|throat|jaw|teeth|tooth|groin|side|flank|ribs?|calf|calves|thighs?|buttocks?|pelvis|"
    "abdomen|stomach|belly|bladder|kidneys?|heels?|face|mouth|tongue|lips?|tailbone|spine|joints?|muscles?"
)
_PART_BEFORE = re.compile(r"(?:(left|right)\s+)?(?:lower\s+|upper\s+)?(" + BODY_PARTS + r")\s*$")
_PART_AFTER = re.compile(
    r"^\s*(?:in|on|at)\s+(?:my|the|his|her|your)\s+(?:(left|right)\s+)?(?:lower\s+|upper\s+)?(" + BODY_PARTS + r")\b"
)
GENERIC_FINDINGS = {"pain", "swelling", "bleeding", "weakness", "wound"}
_NOT_A_FINDING_AFTER = re.compile(
    r"^\s*(?:medications?|medicines?|meds|killers?|relief|management|pills?|clinic|specialist|scale|level|score|control)\b"
)
_CONDITIONAL = compiled(
    r"if (?:you|he|she|it|they|the)|in case|call (?:me|us|911)|come back|go to the (?:er|emergency)|return (?:if|to)|watch (?:out )?for|make sure"
)
_ALLERGY_SENTENCE = compiled(r"allerg\w*|intoleran\w*|reaction to")
DURATION = re.compile(
    r"\b(?:for|over|in)\s+(?:the\s+)?(?:last|past)?\s*(?:about\s+|around\s+|almost\s+|nearly\s+|a\s+couple\s+(?:of\s+)?|a\s+few\s+|several\s+)?"
    r"((?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an|few|couple)\s*(?:or\s+\w+\s+)?(?:days?|weeks?|months?|years?|hours?))\b"
    r"|\b(since\s+(?:yesterday|last\s+\w+|this\s+morning|monday|tuesday|wednesday|thursday|friday|saturday|sunday|the\s+weekend|\w+\s+ago))\b"
    r"|\b((?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an|few|couple of)\s+(?:days?|weeks?|months?|years?)\s+ago)\b"
    r"|\b(\d+/7|\d+/52)\b"
)
EXAM_START = compiled(
    r"physical exam(?:ination)?|(?:on|your) exam(?:ination)?|examin(?:e|ing|ation)|take a (?:quick )?look|have a (?:quick )?look|"
    r"let me (?:listen|check|feel|look|see)|listen to your|i'?m going to (?:listen|check|examine|feel|press)|"
    r"show me the vital signs|vital signs"
)
EXAM_WORDS = compiled(
    r"lungs?|heart|abdomen|belly|throat|tonsils?|ears?|ear drums?|eardrums?|eyes?|pupils?|skin|tender(?:ness)?|swell(?:ing|en)|"
    r"edema|oedema|murmurs?|rhythm|clear|auscultation|crackles|rales|wheez(?:e|es|ing)|reflexes|range of motion|strength|"
    r"sensation|pulses?|rash|redness|red|erythema|lymph nodes?|glands|neck|supple|soft|distended|distension|bowel sounds|"
    r"bruis(?:e|ing)|deformity|gait|alert|oriented|cranial nerves|jugular|jvd|palpat(?:e|ion)|effusion|nodules?|mass|"
    r"regular|irregular|breath sounds|air entry|percussion|guarding|rebound|inflamed|inflammation|discharge|laceration|wound|"
    r"crepitus|laxity|spasm|extremities|sinuses|nose|mouth|tongue|exam"
)
RESULT_WORDS = compiled(
    r"x-?rays?|ct|mri|ultrasound|echo(?:cardiogram)?|ekg|ecg|labs?|blood work|results?|hemoglobin|a1c|cholesterol|"
    r"white (?:blood )?(?:cell )?count|creatinine|potassium|sodium|glucose|urinalysis|culture|ejection fraction|scan|biopsy"
)
ASSESSMENT_START = compiled(
    r"(?:my |the )?assessment|my impression|impression is|(?:the |my |your )?diagnosis|what i think|i think (?:what|that)|"
    r"(?:for|regarding|as for) your (?:first|second|third|next|last|other) (?:problem|issue)|"
    r"(?:first|second|third|next|last) (?:problem|issue)|in summary|to summari[sz]e|so overall|all in all|"
    r"let'?s talk about (?:the|your) plan|my plan|the plan|plan (?:for|is)"
)
ASSESSMENT_CUES = compiled(
    r"i think|i believe|i suspect|it looks like|it sounds like|it seems|seems like|consistent with|suggestive of|"
    r"diagnos(?:is|ed|e)|you have|you've got|you have got|this is|that is|it'?s (?:likely|probably|most likely)|"
    r"likely|probably|most likely|suffer(?:s|ing)? from|signs of|caused by|due to|impression"
)
PLAN_CUES = compiled(
    r"i'?m going to|i am going to|i'?ll|i will|we'?ll|we will|we'?re going to|let'?s|i want (?:you )?to|i'?d like (?:you )?to|"
    r"i would like (?:you )?to|you should|you need to|you'?ll need|recommend|prescrib(?:e|ing)|order(?:ing)?|refer(?:ral|ring)?|"
    r"follow(?:-| )?up|come back|see you|schedule|continue|make sure|try to|plan|going to have you|keep (?:taking|using|an eye)"
)
REFERRAL = compiled(
    r"refer(?:ral|ring|red)?(?: you)? to [\w ]{2,40}|referral|(?:see|consult) (?:a|an|the) \w*(?:ologist|specialist|surgeon|therapist|therapy|dietitian|nutritionist|physio\w*)|physical therapy|physiotherapy"
)
FOLLOW_UP = compiled(
    r"(?:follow(?:-| )?up|come back|see you(?: again| back)?|return|check in|recheck|re-?evaluate|touch base)"
    r"(?:\s+(?:with me|visit|appointment|here))?(?:\s+(?:in|after)\s+(?:about\s+)?(?:\d+|one|two|three|four|five|six|a|an|a couple of|a few)\s+(?:days?|weeks?|months?|years?))?"
)
INTERVAL = re.compile(
    r"(?:in|after)\s+(?:about\s+)?((?:\d+|one|two|three|four|five|six|a|an|a couple of|a few)\s+(?:days?|weeks?|months?|years?))"
)
ADVICE = compiled(
    r"rest|fluids|hydrat\w+|diet|exercise|avoid\w*|ice|elevat\w+|weigh yourself|monitor\w*|lose weight|quit smoking|stop smoking|"
    r"cut (?:back|down)|sleep|physical activity|walk(?:ing)?|stretch\w*|heat|compress|salt|alcohol|low[- ]sodium"
)
SURGERY = compiled(
    r"\w+ectomy|\w+otomy|\w+plasty|bypass(?: surgery)?|(?:hip|knee|joint|valve) replacement|c-?section|caesarean|cesarean|"
    r"(?:tubes?|tubal) (?:tied|ligat\w+)|tubal ligation|(?:had|have had|got) (?:my|his|her|an?|the) \w+ (?:removed|taken out|out|fixed|repaired)|"
    r"surgery on (?:my|his|her|the) (?:left |right )?\w+|(?:knee|back|hip|heart|shoulder|brain|eye|gallbladder|hernia) surgery|transplant"
)
HISTORY_CUES = compiled(
    r"history of|past medical history|medical history|diagnosed with|i have|i've had|i had|he has|she has|has a history|known|chronic|for years"
)
LEADING_DISCOURSE = re.compile(
    r"^(?:(?:so|okay|ok|and|well|alright|all right|now|um|uh|yeah|yes|right|anyway|also|then|but)\b[,.]?\s*)+",
    re.IGNORECASE,
)


@dataclass
class Finding:
    name: str  # canonical ("abdominal pain")
    start: int
    end: int
    unit: Unit
    flags: Assertion


@dataclass
class Condition:
    name: str
    code: str
    mention: str
    start: int
    end: int
    unit: Unit
    flags: Assertion


@dataclass
class _Sections:
    exam_start: int  # unit index where the examination begins (len(units) when never)
    assessment_start: int


@dataclass
class Extraction:
    units: TranscriptUnits
    vocabulary: Vocabulary
    ranker: IcdRanker | None
    sections: _Sections = field(init=False)
    findings: list[Finding] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


def extract(
    transcript: Transcript, *, vocabulary: Vocabulary | None = None, use_encoder: bool = True
) -> list[Suggestion]:
    """Suggested record fields for a transcript (English, or Chinese when transcript.language is "zh")."""
    vocabulary = vocabulary or Vocabulary.default()
    if transcript.language.startswith("zh"):
        from ai.scribe.engine.zh import extract_zh

        return extract_zh(transcript, vocabulary=vocabulary)
    units = TranscriptUnits(transcript)
    if not units.units:
        return []
    ranker = vocabulary.icd_ranker if use_encoder and vocabulary.encoder is not None else None
    ctx = Extraction(units, vocabulary, ranker)
    ctx.sections = _sections(units)
    ctx.findings = _findings(ctx)
    ctx.conditions = _conditions(ctx)
    medications = extract_medications(units, vocabulary)
    suggestions: list[Suggestion] = []
    suggestions += _chief_complaint(ctx)
    suggestions += _history(ctx)
    suggestions += _narrative(ctx)
    suggestions += _past_history(ctx)
    suggestions += _family_history(ctx)
    suggestions += medications
    suggestions += extract_allergies(units, vocabulary)
    suggestions += extract_vitals(units)
    suggestions += _examination(ctx)
    suggestions += _assessment(ctx)
    suggestions += _diagnoses(ctx)
    suggestions += _plan(ctx, medications)
    return finish(suggestions, transcript)


def finish(suggestions: list[Suggestion], transcript: Transcript) -> list[Suggestion]:
    """Provenance on every suggestion, spans trimmed to the text, the fields in note order."""
    out = []
    for suggestion in suggestions:
        start = max(0, min(suggestion.span_start, len(transcript.text)))
        end = max(start, min(suggestion.span_end, len(transcript.text)))
        while start < end and transcript.text[start].isspace():
            start += 1
        while end > start and transcript.text[end - 1].isspace():
            end -= 1
        if end <= start:
            continue
        suggestion.span_start, suggestion.span_end = start, end
        if suggestion.model_name == "rules":
            suggestion.model_name = RULES_MODEL
            suggestion.model_version = RULES_VERSION
        suggestion.confidence = round(max(0.0, min(1.0, suggestion.confidence)), 3)
        out.append(suggestion)
    order = {name: i for i, name in enumerate(FIELDS)}
    out.sort(key=lambda s: (order.get(s.field, 99), s.span_start))
    return out


# ----- sections ------------------------------------------------------------------------------------------------
def _sections(units: TranscriptUnits) -> _Sections:
    exam = len(units.units)
    assessment = len(units.units)
    for unit in units.units:
        if unit.speaker == "patient":
            continue
        sentence = units.low[unit.start : unit.end]
        if exam == len(units.units) and EXAM_START.search(sentence) and unit.index > len(units.units) * 0.15:
            exam = unit.index
        if ASSESSMENT_START.search(sentence) and unit.index > len(units.units) * 0.3 and not unit.question:
            assessment = unit.index
            break
    if assessment < exam:
        exam = min(exam, assessment)
    return _Sections(exam, assessment)


# ----- findings and conditions ---------------------------------------------------------------------------------
def _findings(ctx: Extraction) -> list[Finding]:
    units = ctx.units
    low = units.low
    matches: list[tuple[int, int, str]] = []
    for name, patterns in SYMPTOMS.items():
        for pattern in patterns:
            for match in compiled(pattern).finditer(low):
                matches.append((match.start(), match.end(), name))
    matches.sort(key=lambda m: (m[0], -(m[1] - m[0]), m[2] in GENERIC_FINDINGS))
    chosen: list[tuple[int, int, str]] = []
    for start, end, name in matches:
        if any(s < end and start < e for s, e, _n in chosen):
            continue
        chosen.append((start, end, name))
    # A more specific finding that contains a generic one wins ("chest pain" over "pain"), handled by overlap.
    findings: list[Finding] = []
    for start, end, name in chosen:
        unit = units.unit_at(start)
        if unit is None:
            continue
        if _NOT_A_FINDING_AFTER.match(low[end : end + 30]):
            continue
        if name in GENERIC_FINDINGS:
            located = _locate(low, start, end, name, unit)
            if located is None:
                continue
            name, start, end = located
        sentence_before = low[unit.start : start]
        if _CONDITIONAL.search(sentence_before) and unit.speaker != "patient":
            continue
        if _ALLERGY_SENTENCE.search(low, unit.start, unit.end):
            continue  # "it gives me hives" describes an allergy, not a present symptom
        flags = assertion(units, unit, start, end)
        if not flags.confirmed:
            continue
        findings.append(Finding(name, start, end, unit, flags))
    return findings


def _locate(low: str, start: int, end: int, name: str, unit: Unit) -> tuple[str, int, int] | None:
    # "pain" alone says too little; "knee pain" or "pain in my left knee" is a finding.
    before = _PART_BEFORE.search(low[max(unit.start, start - 30) : start])
    if before:
        side = f"{before.group(1)} " if before.group(1) else ""
        return (
            f"{side}{_singular(before.group(2))} {name}",
            start - (len(low[max(unit.start, start - 30) : start]) - before.start()),
            end,
        )
    after = _PART_AFTER.match(low[end : min(unit.end, end + 40)])
    if after:
        side = f"{after.group(1)} " if after.group(1) else ""
        return f"{side}{_singular(after.group(2))} {name}", start, end + after.end()
    return None


def _singular(part: str) -> str:
    return {"feet": "foot", "teeth": "tooth", "calves": "calf"}.get(
        part, part[:-1] if part.endswith("s") and part not in ("abdomen",) and not part.endswith("ss") else part
    )


def _conditions(ctx: Extraction) -> list[Condition]:
    units = ctx.units
    vocabulary = ctx.vocabulary
    out = []
    for start, end, phrase, code in vocabulary.icd_index_en.find(units.low):
        code = str(code)
        if code.startswith("R"):
            continue  # symptoms are findings, handled above
        unit = units.unit_at(start)
        if unit is None:
            continue
        if _NOT_A_FINDING_AFTER.match(units.low[end : end + 30]) and code not in ("I10",):
            continue
        flags = assertion(units, unit, start, end)
        if not flags.confirmed:
            continue
        name = vocabulary.condition_synonyms[phrase][0] if phrase in vocabulary.condition_synonyms else phrase
        out.append(Condition(name, code, units.text[start:end], start, end, unit, flags))
    return out


# ----- fields --------------------------------------------------------------------------------------------------
CC_QUESTION = compiled(
    r"what brings you|what can i do for you|how can i help|what seems to be|what'?s (?:been )?going on|what'?s the problem|"
    r"what happened|how are you (?:doing|feeling)|tell me (?:what|about)|what'?s wrong|reason for|what are you here"
)
CC_STATEMENT = compiled(
    r"(?:presents?|presenting|here|in|coming in|came in|seen|referred)(?: today)?(?: to clinic)? (?:for|with|because of|due to)|"
    r"chief complaint (?:is|of)|complain(?:s|ing)? of|concerned about"
)
FOLLOW_UP_VISIT = compiled(
    r"(?:just |here |came |come )(?:in )?for (?:a |my |the )?follow(?:-| )?up|follow(?:-| )?up (?:visit|appointment)"
)


def _chief_complaint(ctx: Extraction) -> list[Suggestion]:
    units = ctx.units
    low = units.low
    limit = max(8, len(units.units) // 3)
    affirmed = [
        f for f in ctx.findings if not f.flags.negated and not f.flags.family and f.unit.index < ctx.sections.exam_start
    ]
    conditions = [
        c
        for c in ctx.conditions
        if not c.flags.negated and not c.flags.family and c.unit.index < ctx.sections.exam_start
    ]
    candidates: list[Finding | Condition] = [*affirmed, *conditions]
    # 1. A doctor's framing sentence: "presents today for follow-up of chronic problems", "here for knee pain".
    for unit in units.units[:limit]:
        if unit.speaker == "patient" or unit.question:
            continue
        match = CC_STATEMENT.search(low, unit.start, unit.end)
        if not match:
            continue
        items = [x for x in candidates if match.end() <= x.start < unit.end]
        if items:
            return [_cc_suggestion(ctx, items, match.start(), 0.85)]
    # 2. The patient's first complaint, ideally the answer to the opening question.
    for unit in units.units[:limit]:
        if unit.speaker == "doctor":
            continue
        turn = units.turn_units(unit)
        items = [x for x in candidates if turn[0].start <= x.start < turn[-1].end]
        if FOLLOW_UP_VISIT.search(low, unit.start, unit.end) and not items:
            match = FOLLOW_UP_VISIT.search(low, unit.start, unit.end)
            assert match is not None
            return [
                Suggestion(
                    "chief_complaint",
                    "Follow-up visit",
                    match.start(),
                    match.end(),
                    0.7,
                    value={"terms": ["follow-up"]},
                )
            ]
        if items:
            # Symptoms the doctor asks about next and the patient confirms belong to the presenting complaint.
            following = [
                x
                for x in affirmed
                if x.unit.question and turn[-1].index < x.unit.index <= turn[-1].index + 4 and x not in items
            ]
            return [_cc_suggestion(ctx, [*items, *following], None, 0.8 if units.has_speakers else 0.6)]
    # 3. The first finding the doctor asked about and the patient confirmed.
    first: list[Finding | Condition] = [x for x in affirmed if x.unit.index < limit]
    if first:
        return [_cc_suggestion(ctx, first[:1], None, 0.6)]
    return []


def _cc_suggestion(
    ctx: Extraction, items: list[Finding | Condition], start: int | None, confidence: float
) -> Suggestion:
    items = sorted(items, key=lambda x: x.start)
    names: list[str] = []
    chosen = []
    for item in items:
        if item.name not in names and len(names) < 3:
            names.append(item.name)
            chosen.append(item)
    span_start = min(c.start for c in chosen) if start is None else start
    span_end = max(max(c.end for c in chosen), max(c.flags.span_end for c in chosen))
    text = _join(names)
    return Suggestion(
        "chief_complaint",
        text[:1].upper() + text[1:],
        span_start,
        span_end,
        confidence,
        value={"terms": names},
        uncertain=any(c.flags.uncertain for c in chosen),
    )


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return names[0] if names else ""
    return ", ".join(names[:-1]) + " and " + names[-1]


SOCIAL = compiled(
    r"smok\w*|cigarettes?|tobacco|vap(?:e|es|ing)|alcohol|drink(?:s|ing)?|beers?|wine|liquor|marijuana|cannabis|"
    r"recreational drugs|works? (?:as|at|in)|working (?:as|at|in)|job|retired|employed|unemployed|lives? (?:with|alone|in)|"
    r"married|divorced|widowed|exercise|exercising"
)
MAX_NARRATIVE = 10


def _narrative(ctx: Extraction) -> list[Suggestion]:
    """The patient's history as note sentences: what the patient said about the illness (history of present
    illness) and about smoking, drinking, work and home (social history, kept with the past history)."""
    units = ctx.units
    out: list[Suggestion] = []
    pronoun = rewrite.infer_pronoun(units.transcript)
    clinical_units = {f.unit.index for f in ctx.findings} | {c.unit.index for c in ctx.conditions}
    family_units = {f.unit.index for f in ctx.findings if f.flags.family}
    family_units |= {c.unit.index for c in ctx.conditions if c.flags.family}
    for unit in units.units:
        if unit.question or unit.index >= ctx.sections.exam_start or unit.speaker == "doctor":
            continue
        raw = units.text[unit.start : unit.end]
        if (
            len(raw.split()) < 4
            or _ALLERGY_SENTENCE.search(units.low, unit.start, unit.end)
            or unit.index in family_units
        ):
            continue  # allergies and relatives' illnesses have their own fields
        social = SOCIAL.search(units.low, unit.start, unit.end)
        clinical = unit.index in clinical_units or _is_clinical_sentence(ctx, units.low[unit.start : unit.end])
        if not social and not clinical:
            continue
        text = rewrite.third_person(raw, unit.speaker, pronoun)
        if len(text.split()) < 3:
            continue
        if social and not clinical:
            out.append(Suggestion("past_history", text, unit.start, unit.end, 0.6, value={"kind": "social"}))
        elif sum(s.field == "history_present_illness" for s in out) < MAX_NARRATIVE:
            out.append(
                Suggestion("history_present_illness", text, unit.start, unit.end, 0.6, value={"kind": "narrative"})
            )
    return out


def _is_clinical_sentence(ctx: Extraction, sentence: str) -> bool:
    words = TOKEN_WORDS.findall(sentence)
    concepts = ctx.vocabulary.concept_terms
    return any(w in concepts and w not in _EVERYDAY_CONCEPTS for w in words) or any(
        f"{a} {b}" in concepts for a, b in zip(words, words[1:], strict=False)
    )


TOKEN_WORDS = re.compile(r"[a-z]+")
# medwer terms that are everyday words in speech
_EVERYDAY_CONCEPTS = frozenset(
    ("contact", "male", "female", "well", "feeling", "fall", "cold", "hot", "tired", "pressure")
)


def _history(ctx: Extraction) -> list[Suggestion]:
    """Symptoms present and denied, from the history part of the consultation (before the examination)."""
    units = ctx.units
    out: list[Suggestion] = []
    seen: dict[tuple[str, bool], Suggestion] = {}
    for finding in ctx.findings:
        unit = finding.unit
        if finding.flags.family:
            continue
        if unit.index >= ctx.sections.exam_start and unit.speaker != "patient":
            continue
        key = (finding.name, finding.flags.negated)
        if key in seen or (finding.flags.negated and (finding.name, False) in seen):
            continue
        duration, duration_end = _duration(units, finding)
        if finding.flags.negated:
            text = f"denies {finding.name}"
        else:
            text = (
                f"{finding.name} for {duration}"
                if duration and not duration.startswith(("since", "for")) and "ago" not in duration
                else (f"{finding.name} {duration}" if duration else finding.name)
            )
        confidence = 0.85 if unit.speaker == "patient" else (0.8 if unit.question else 0.7)
        if finding.flags.uncertain:
            confidence -= 0.2
        suggestion = Suggestion(
            "history_present_illness",
            text,
            min(finding.start, finding.flags.span_start),
            max(finding.end, finding.flags.span_end, duration_end),
            confidence,
            value={
                "kind": "finding",
                "finding": finding.name,
                "present": not finding.flags.negated,
                "duration": duration,
            },
            negated=finding.flags.negated,
            uncertain=finding.flags.uncertain,
        )
        seen[key] = suggestion
        out.append(suggestion)
    # A symptom denied once and reported later is reported: drop the denial.
    return [s for s in out if not (s.negated and (s.value["finding"], False) in seen)]


def _duration(units: TranscriptUnits, finding: Finding) -> tuple[str, int]:
    unit = finding.unit
    candidates = [unit]
    answer = units.answer_to(unit) if unit.question else None
    if answer is not None:
        candidates.append(answer)
    for candidate in candidates:
        match = DURATION.search(units.low, candidate.start, candidate.end)
        if match:
            text = next(g for g in match.groups() if g)
            return " ".join(text.split()), match.end()
    return "", 0


def _past_history(ctx: Extraction) -> list[Suggestion]:
    units = ctx.units
    out: list[Suggestion] = []
    seen: set[str] = set()
    for condition in ctx.conditions:
        unit = condition.unit
        if condition.flags.family or condition.flags.negated or condition.flags.uncertain:
            continue
        in_history = (
            unit.speaker == "patient"
            or unit.index < ctx.sections.exam_start
            or HISTORY_CUES.search(units.low, unit.start, unit.end)
        )
        if not in_history or (unit.index >= ctx.sections.assessment_start and unit.speaker != "patient"):
            continue
        if condition.code in seen:
            continue
        seen.add(condition.code)
        out.append(
            Suggestion(
                "past_history",
                condition.name,
                min(condition.start, condition.flags.span_start),
                max(condition.end, condition.flags.span_end),
                0.75 if unit.speaker == "patient" else 0.7,
                value={"kind": "condition", "condition": condition.name, "code": condition.code},
            )
        )
    for unit in units.units:
        if unit.question or (unit.speaker == "doctor" and unit.index >= ctx.sections.exam_start):
            continue
        for match in SURGERY.finditer(units.low, unit.start, unit.end):
            flags = assertion(units, unit, match.start(), match.end())
            if flags.negated or flags.family or not flags.confirmed:
                continue
            name = rewrite.third_person(units.text[match.start() : match.end()], unit.speaker).lower()
            if name in seen:
                continue
            seen.add(name)
            out.append(
                Suggestion(
                    "past_history",
                    name,
                    match.start(),
                    match.end(),
                    0.7,
                    value={"kind": "surgery", "procedure": name},
                )
            )
    return out


def _family_history(ctx: Extraction) -> list[Suggestion]:
    out: list[Suggestion] = []
    seen: set[str] = set()
    everything: list[Finding | Condition] = [*ctx.conditions, *ctx.findings]
    for item in everything:
        if not item.flags.family or item.flags.negated:
            continue
        relative = item.flags.relative or "family"
        key = f"{relative}:{item.name}"
        if key in seen:
            continue
        seen.add(key)
        code = item.code if isinstance(item, Condition) else ""
        out.append(
            Suggestion(
                "family_history",
                f"{relative}: {item.name}" if relative != "family" else item.name,
                min(item.start, item.flags.span_start),
                max(item.end, item.flags.span_end),
                0.75,
                value={"relative": relative, "condition": item.name, "code": code},
                family=True,
                uncertain=item.flags.uncertain,
            )
        )
    return out


def _statement_text(units: TranscriptUnits, unit: Unit) -> tuple[str, int]:
    """A doctor's sentence as note prose, and the offset where its content starts (after "so, okay")."""
    raw = units.text[unit.start : unit.end]
    lead = LEADING_DISCOURSE.match(raw)
    offset = lead.end() if lead else 0
    return rewrite.third_person(raw[offset:], unit.speaker), unit.start + offset


def _examination(ctx: Extraction) -> list[Suggestion]:
    units = ctx.units
    out = []
    for unit in units.units:
        if unit.speaker == "patient" or unit.question:
            continue
        in_exam = ctx.sections.exam_start <= unit.index < ctx.sections.assessment_start
        sentence = units.low[unit.start : unit.end]
        exam_words = {m.group() for m in EXAM_WORDS.finditer(sentence)}
        if not in_exam or not exam_words or len(sentence) < 12:
            continue
        if re.search(r"\b(?:i'?m going to|let me|i want to|i'?ll just|i will)\b", sentence) and len(exam_words) < 2:
            continue  # announcing the exam, not its finding
        kind = "result" if RESULT_WORDS.search(sentence) else "exam"
        text, start = _statement_text(units, unit)
        if len(text) < 8:
            continue
        out.append(Suggestion("examination", text, start, unit.end, 0.7, value={"kind": kind}))
    return out


def _assessment(ctx: Extraction) -> list[Suggestion]:
    units = ctx.units
    out = []
    condition_units = {c.unit.index for c in ctx.conditions if not c.flags.family}
    finding_units = {f.unit.index for f in ctx.findings if not f.flags.family}
    for unit in units.units:
        if unit.speaker == "patient" or unit.question:
            continue
        sentence = units.low[unit.start : unit.end]
        in_assessment = unit.index >= ctx.sections.assessment_start
        cue = ASSESSMENT_CUES.search(sentence)
        if not (unit.index in condition_units or (in_assessment and unit.index in finding_units)):
            continue
        if not (in_assessment or (cue and unit.index >= ctx.sections.exam_start)):
            continue
        if PLAN_CUES.search(sentence) and not cue:
            continue
        text, start = _statement_text(units, unit)
        uncertain = bool(
            re.search(
                r"\b(?:possibl[ey]|probabl[ey]|maybe|might|could be|likely|suspect|rule out|not sure)\b", sentence
            )
        )
        out.append(
            Suggestion("assessment", text, start, unit.end, 0.7, value={"kind": "assessment"}, uncertain=uncertain)
        )
    return out


DIAGNOSIS_CUE = re.compile(
    r"\b(?:you have|you've got|you have got|he has|she has|this is|that is|it'?s|it is|consistent with|suggestive of|"
    r"diagnos(?:is is|is of|ed with|e you with)|looks like|sounds like|suffer(?:s|ing)? from|signs of|due to|caused by|"
    r"likely|probably)\s+"
)
DIAGNOSIS_PHRASE = re.compile(
    r"(?:a |an |some |the |likely |probably |possibly |most likely |just |mild |early )*"
    r"((?:[a-z][a-z'-]*\s?){1,6}?)(?=[,.;!?]|\s(?:and|but|which|that|so|because|from|with|in your|i|we|you)\b|$)"
)
_NOT_A_DIAGNOSIS_START = frozenset(
    [
        "consistent",
        "suggestive",
        "likely",
        "probably",
        "possibly",
        "due",
        "caused",
        "signs",
        "diagnosed",
        "going",
        "good",
        "fine",
        "okay",
        "normal",
        "nothing",
        "not",
        "very",
        "really",
        "something",
        "what",
        "how",
        "a",
        "the",
        "just",
        "too",
        "pretty",
        "kind",
        "sort",
        "all",
    ]
)


def _diagnoses(ctx: Extraction) -> list[Suggestion]:
    """Coded diagnoses: conditions named in the assessment (high confidence) and conditions the patient has
    (lower), then assessment phrases no alias knows, ranked by the encoder."""
    units = ctx.units
    out: list[Suggestion] = []
    seen: set[str] = set()
    for condition in ctx.conditions:
        unit = condition.unit
        if condition.flags.family or condition.flags.negated:
            continue
        in_assessment = unit.speaker != "patient" and (
            unit.index >= ctx.sections.assessment_start
            or (unit.index >= ctx.sections.exam_start and bool(ASSESSMENT_CUES.search(units.low, unit.start, unit.end)))
        )
        confidence = 0.9 if in_assessment else 0.6
        if condition.flags.uncertain:
            confidence *= 0.7
        if condition.code in seen:
            continue
        seen.add(condition.code)
        candidates = _candidates(ctx, condition.mention, exact_code=condition.code)
        out.append(
            _diagnosis(
                condition.name,
                condition.mention,
                candidates,
                condition.start,
                condition.end,
                condition.flags,
                confidence,
            )
        )
    if ctx.ranker is None:
        return out
    covered = [(c.start, c.end) for c in ctx.conditions]
    for unit in units.units:
        if unit.speaker == "patient" or unit.question or unit.index < ctx.sections.exam_start:
            continue
        for cue in DIAGNOSIS_CUE.finditer(units.low, unit.start, unit.end):
            match = DIAGNOSIS_PHRASE.match(units.low, cue.end(), unit.end)
            if match is None:
                continue
            phrase = match.group(1).strip()
            start = match.start(1)
            end = start + len(phrase)
            if any(s < end and start < e for s, e in covered) or not _is_clinical(ctx, phrase):
                continue
            flags = assertion(units, unit, start, end)
            if flags.negated or flags.family:
                continue
            ranked = ctx.ranker.rank(phrase, 3, exclude=frozenset(seen))
            if not ranked or ranked[0].confidence < 0.4:
                continue
            seen.add(ranked[0].code)
            confidence = ranked[0].confidence * (0.6 if flags.uncertain else 0.85)
            out.append(_diagnosis(phrase, units.text[start:end], ranked, start, end, flags, confidence))
    return out


def _is_clinical(ctx: Extraction, phrase: str) -> bool:
    words = phrase.split()
    if not words or words[0] in _NOT_A_DIAGNOSIS_START:
        return False
    concepts = ctx.vocabulary.concept_terms
    if any(w in concepts for w in words) or any(" ".join(words[i : i + 2]) in concepts for i in range(len(words) - 1)):
        return True
    return any(len(w) >= 4 and w in ctx.vocabulary.icd_words for w in words)


def _candidates(ctx: Extraction, mention: str, *, exact_code: str) -> list[IcdCandidate]:
    vocabulary = ctx.vocabulary
    first = ctx.ranker.exact(mention) if ctx.ranker else None
    if first is None or first.code != exact_code:
        method = "synonym" if mention.lower() in vocabulary.condition_synonyms else "exact"
        first = IcdCandidate(exact_code, vocabulary.icd[exact_code].title, 0.9 if method == "synonym" else 0.95, method)
    if ctx.ranker is None:
        return [first]
    out = [first]
    for candidate in ctx.ranker.rank(vocabulary.icd[exact_code].title, 3, exclude=frozenset({exact_code})):
        out.append(
            IcdCandidate(
                candidate.code, candidate.title, round(min(candidate.confidence, first.confidence) * 0.6, 3), "encoder"
            )
        )
        if len(out) == 3:
            break
    return out


def _diagnosis(
    name: str, mention: str, candidates: list[IcdCandidate], start: int, end: int, flags: Assertion, confidence: float
) -> Suggestion:
    top = candidates[0]
    return Suggestion(
        "diagnosis",
        name,
        min(start, flags.span_start),
        max(end, flags.span_end),
        confidence,
        value={
            "code": top.code,
            "title": top.title,
            "mention": mention,
            "candidates": [c.as_dict() for c in candidates],
        },
        uncertain=flags.uncertain,
        model_name="scribe-icd" if top.method == "encoder" else "rules",
        model_version="all-MiniLM-L6-v2" if top.method == "encoder" else "",
    )


def _plan(ctx: Extraction, medications: list[Suggestion]) -> list[Suggestion]:
    units = ctx.units
    out: list[Suggestion] = []
    seen: set[str] = set()
    for suggestion in medications:
        status = suggestion.value.get("status")
        unit = units.unit_at(suggestion.span_start)
        if status not in ("new", "changed", "stopped") or unit is None or unit.speaker == "patient":
            continue
        action = {"new": "start", "changed": "change", "stopped": "stop"}[str(status)]
        name = str(suggestion.value.get("name", ""))
        key = f"medication:{name}"
        if key in seen:
            continue
        seen.add(key)
        text = medication_text(name, suggestion.value)
        out.append(
            Suggestion(
                "plan",
                f"{action} {text}",
                suggestion.span_start,
                suggestion.span_end,
                suggestion.confidence * 0.95,
                value={"kind": "medication", "action": action, "medication": dict(suggestion.value)},
            )
        )
    plan_units = [
        u
        for u in units.units
        if u.speaker != "patient"
        and not u.question
        and (u.index >= ctx.sections.assessment_start or PLAN_CUES.search(units.low, u.start, u.end))
    ]
    for unit in plan_units:
        sentence = units.low[unit.start : unit.end]
        taken: list[tuple[int, int]] = []
        cue = PLAN_CUES.search(sentence)
        if not cue and unit.index < ctx.sections.assessment_start:
            continue
        if _CONDITIONAL.search(sentence) and not cue:
            continue
        for name, patterns in TESTS.items():
            for pattern in patterns:
                match = compiled(pattern).search(sentence)
                if match is None or any(a < match.end() and match.start() < b for a, b in taken):
                    continue
                if not cue and not re.search(r"\b(?:order|get|check|do|send|repeat|schedule|arrange|need)\b", sentence):
                    continue
                if re.search(
                    r"\b(?:showed|shows|came back|results?|was|were|looks?|looking at)\b", sentence
                ) and not re.search(r"\b(?:order|repeat|schedule|get another|arrange)\b", sentence):
                    continue  # a result being read, not a test being ordered
                key = f"test:{name}"
                taken.append((match.start(), match.end()))
                if key in seen:
                    continue
                seen.add(key)
                start = unit.start + (cue.start() if cue and cue.start() < match.start() else match.start())
                out.append(
                    Suggestion(
                        "plan", name, start, unit.start + match.end(), 0.75, value={"kind": "test", "test": name}
                    )
                )
                break
        referral = REFERRAL.search(sentence)
        if referral and "referral" not in seen:
            seen.add("referral")
            text = rewrite.clean(units.text[unit.start + referral.start() : unit.start + referral.end()])
            out.append(
                Suggestion(
                    "plan",
                    f"referral: {text.lower()}",
                    unit.start + referral.start(),
                    unit.start + referral.end(),
                    0.75,
                    value={"kind": "referral", "to": text},
                )
            )
        follow = FOLLOW_UP.search(sentence)
        if follow and "follow_up" not in seen and cue:
            interval = INTERVAL.search(follow.group())
            seen.add("follow_up")
            text = f"follow-up in {interval.group(1)}" if interval else "follow-up"
            out.append(
                Suggestion(
                    "plan",
                    text,
                    unit.start + follow.start(),
                    unit.start + follow.end(),
                    0.75,
                    value={"kind": "follow_up", "interval": interval.group(1) if interval else ""},
                )
            )
        if cue and ADVICE.search(sentence) and not find_drug_mentions(units, ctx.vocabulary, unit.start, unit.end):
            text, start = _statement_text(units, unit)
            key = f"advice:{text.lower()}"
            if key not in seen and 12 <= len(text) <= 300:
                seen.add(key)
                out.append(Suggestion("plan", text, start, unit.end, 0.6, value={"kind": "advice"}))
    return out
