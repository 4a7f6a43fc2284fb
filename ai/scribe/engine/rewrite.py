"""Speech turned into note prose: the patient's "I" and the doctor's "you" become the third person, and the
hesitations of speech ("um", "you know", repeated words) go.

Only pronouns, verb agreement and fillers change; every content word of the sentence stays, so a rewritten
sentence says nothing its source span did not.
"""

from __future__ import annotations

import re

from ai.scribe.engine.types import Transcript

FILLERS = re.compile(
    r"(?:,\s*)?\b(?:um+|uh+|uh-huh|mm-hmm|hmm+|er+|ah+|erm|you know|i mean|kinda|sorta|basically|literally)\b,?"
    r"|(?:,\s*)?\blike,",
    re.IGNORECASE,
)
LEADING = re.compile(
    r"^(?:(?:so|okay|ok|and|well|alright|all right|now|yeah|yes|right|anyway|oh)\b[,.]?\s+)+", re.IGNORECASE
)
DICTATION = re.compile(
    r"\b(?:hey\s+)?(?:dragon|dax)\b[,.]?\s*(?:show me|please|can you)?[^.?!]*[.?!]?\s*", re.IGNORECASE
)
_REPEAT = re.compile(r"\b(\w+)(?:\s*,?\s+\1\b)+", re.IGNORECASE)
_NOT_VERB = {
    "just",
    "really",
    "also",
    "usually",
    "still",
    "never",
    "always",
    "sometimes",
    "actually",
    "only",
    "definitely",
    "probably",
    "mostly",
    "normally",
    "often",
    "already",
    "even",
    "recently",
    "generally",
    "occasionally",
    "rarely",
    "barely",
    "hardly",
    "now",
    "then",
    "ever",
    "certainly",
    "honestly",
    "guess",
}
# After "you", these make it the subject ("on exam you have", "today you feel").
_SUBJECT_VERBS = {
    "have", "had", "are", "were", "can", "could", "will", "would", "should", "need", "feel", "felt", "look", "looks",
    "seem", "got", "get", "do", "did", "don't", "didn't", "haven't", "aren't", "may", "might", "must", "take", "told",
    "said", "mentioned", "describe", "report", "reported", "appear", "sound", "still", "also", "just", "really",
}  # fmt: skip
_CLAUSE_START = {
    "and",
    "but",
    "so",
    "if",
    "when",
    "that",
    "because",
    "since",
    "while",
    "as",
    "or",
    "then",
    "now",
    "think",
    "know",
    "okay",
    "ok",
    "well",
}
# Irregular past tenses: already agree with any subject.
_PAST = frozenset(
    [
        "fell",
        "felt",
        "went",
        "got",
        "came",
        "saw",
        "took",
        "gave",
        "made",
        "said",
        "told",
        "began",
        "broke",
        "ate",
        "drank",
        "ran",
        "woke",
        "slept",
        "thought",
        "found",
        "left",
        "kept",
        "lost",
        "hurt",
        "put",
        "quit",
        "cut",
        "hit",
        "set",
        "let",
        "shut",
        "spent",
        "sent",
        "became",
        "bought",
        "brought",
        "caught",
        "fought",
        "taught",
        "wrote",
        "rode",
        "drove",
        "sat",
        "stood",
        "swam",
        "threw",
        "knew",
        "grew",
        "flew",
        "wore",
        "tore",
        "bit",
        "hid",
        "held",
        "heard",
        "meant",
        "paid",
        "laid",
        "led",
        "read",
        "did",
        "was",
        "were",
        "had",
    ]
)
_BASE_ED = {
    "need",
    "feed",
    "bleed",
    "seed",
    "speed",
    "proceed",
    "succeed",
    "exceed",
    "shed",
    "bring",
    "sing",
    "ring",
    "sting",
    "swing",
    "cling",
    "wring",
}
_MODALS = {
    "can",
    "could",
    "will",
    "would",
    "should",
    "might",
    "must",
    "may",
    "shall",
    "did",
    "had",
    "was",
    "used",
    "didn't",
    "can't",
    "couldn't",
    "won't",
    "wouldn't",
    "wasn't",
    "shouldn't",
}
_IRREGULAR = {
    "am": "is",
    "have": "has",
    "do": "does",
    "go": "goes",
    "don't": "doesn't",
    "haven't": "hasn't",
    "are": "is",
    "aren't": "isn't",
    "'m": "is",
    "were": "was",
    "weren't": "wasn't",
}

PRONOUNS = {
    "he": {"subject": "he", "object": "him", "possessive": "his", "reflexive": "himself"},
    "she": {"subject": "she", "object": "her", "possessive": "her", "reflexive": "herself"},
    "they": {
        "subject": "the patient",
        "object": "the patient",
        "possessive": "the patient's",
        "reflexive": "themselves",
    },
}


def untokenise(text: str) -> str:
    """Undo a recogniser's tokenised contractions: "do n't" -> "don't", "gon na" -> "going to"."""
    text = re.sub(r"\b(\w+) n't\b", r"\1n't", text)
    text = re.sub(r"\b(\w+) '(s|re|ve|ll|d|m)\b", r"\1'\2", text)
    text = re.sub(r"\bgon na\b", "going to", text)
    text = re.sub(r"\bwan na\b", "want to", text)
    return re.sub(r"\bgot ta\b", "got to", text)


def clean(text: str) -> str:
    """Speech without fillers and stutters, single-spaced, first letter upper case."""
    text = DICTATION.sub("", text)
    text = FILLERS.sub(" ", text)
    text = LEADING.sub("", text)
    text = re.sub(r"\bi\b", "I", text)
    text = _REPEAT.sub(r"\1", text)
    text = re.sub(r"\s+([,.?!])", r"\1", text)
    text = re.sub(r"([,.?!])(?:\s*[,.])+", r"\1", text)
    text = re.sub(r"^[\s,.]+", "", text)
    text = " ".join(text.split())
    text = re.sub(r"([.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return text[:1].upper() + text[1:] if text else text


def third_person(text: str, speaker: str, pronoun: str = "they") -> str:
    """The sentence as a note would say it about the patient: the patient's first person or the doctor's
    second person becomes `pronoun` ("he", "she" or "they" = "the patient")."""
    forms = PRONOUNS.get(pronoun, PRONOUNS["they"])
    text = untokenise(FILLERS.sub(" ", text))
    words = re.findall(r"[A-Za-z]+(?:'[a-z]+)?(?:-[A-Za-z]+)*|\d+(?:[.,/]\d+)*%?|[^\sA-Za-z\d]", text)
    if speaker == "patient":
        subject, obj, possessive, reflexive = ("i", "i'm", "i've", "i'll", "i'd"), "me", "my", "myself"
    elif speaker == "doctor":
        subject, obj, possessive, reflexive = ("you", "you're", "you've", "you'll", "you'd"), "you", "your", "yourself"
    else:
        return clean(text)
    out: list[str] = []
    conjugate_next = False
    for index, word in enumerate(words):
        low = word.lower()
        following = words[index + 1].lower() if index + 1 < len(words) else ""
        if conjugate_next and (low.isalpha() or low in _IRREGULAR):
            if low in _NOT_VERB:
                out.append(word)
                continue
            conjugate_next = False
            out.append(_third_singular(low))
            continue
        conjugate_next = False
        previous = out[-1].lower() if out else ""
        if (
            speaker == "doctor"
            and low == "you"
            and previous
            and previous not in _CLAUSE_START
            and previous.isalpha()
            and following not in _SUBJECT_VERBS
        ):
            out.append(forms["object"])
        elif low in subject:
            base = forms["subject"]
            if low.endswith("'m") or low.endswith("'re"):
                out.extend([base, "is"])
            elif low.endswith("'ve"):
                out.extend([base, "has"])
            elif low.endswith("'ll"):
                out.extend([base, "will"])
            elif low.endswith("'d"):
                out.extend([base, "would"])
            else:
                out.append(base)
                conjugate_next = True
        elif low == possessive:
            out.append(forms["possessive"])
        elif low == reflexive:
            out.append(forms["reflexive"])
        elif low == obj and speaker == "patient":
            out.append(forms["object"])
        else:
            out.append(word)
    sentence = ""
    for token in out:
        if sentence and (token[0].isalnum() or token[0] in "'\"(") and not sentence.endswith(("(", "/")):
            sentence += " "
        sentence += token
    return clean(sentence)


def _third_singular(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if (
        verb in _MODALS
        or verb in _PAST
        or (verb.endswith(("ed", "ing")) and verb not in _BASE_ED)
        or verb.endswith("n't")
        or not verb.isalpha()
    ):
        return verb
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb
    if verb.endswith(("ss", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if len(verb) > 2 and verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def infer_pronoun(transcript: Transcript) -> str:
    """He, she or they, from how the doctor speaks of the patient ("58 year old male", "she")."""
    low = transcript.text.lower()
    male = len(re.findall(r"\b(?:male|man|gentleman|mr|he|his|him|boy|husband|father)\b", low))
    female = len(re.findall(r"\b(?:female|woman|lady|mrs|ms|miss|she|her|hers|girl|wife|mother)\b", low))
    strong_male = re.search(r"\b(?:year[- ]old|yo) (?:male|man|gentleman|boy)\b|\bmr\.? ", low)
    strong_female = re.search(r"\b(?:year[- ]old|yo) (?:female|woman|lady|girl)\b|\bm(?:r)?s\.? ", low)
    if strong_male and not strong_female:
        return "he"
    if strong_female and not strong_male:
        return "she"
    if male > female * 1.3 and male >= 3:
        return "he"
    if female > male * 1.3 and female >= 3:
        return "she"
    return "they"
