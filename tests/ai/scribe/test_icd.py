"""ICD-10 suggestions: exact and synonym matches first, then codes ranked by the MiniLM sentence encoder."""

from __future__ import annotations

import pytest

from ai.scribe.engine.extract import extract
from ai.scribe.engine.icd import IcdRanker
from ai.scribe.engine.types import Transcript
from ai.scribe.engine.vocabulary import Vocabulary, icd_codes_who, title_aliases
from tests.ai.scribe.test_extract_support import vocabulary_without_encoder

# A small classification keeps the encoder's title embeddings quick to compute in a test.
CODES = {
    "E87.7", "I50.9", "I50.0", "I10", "J18.9", "G56.0", "M75.4", "E03.9", "J45.9", "K21.9", "N39.0", "M54.5",
    "J06.9", "A09.9", "E11.9", "E14.9", "I48.9", "N20.0", "K80.2", "D50.9", "D64.9", "G43.9",
}  # fmt: skip


@pytest.fixture(scope="module")
def encoder_vocabulary(tmp_path_factory):
    import torch

    from ai.scribe.engine.encoder import SentenceEncoder, model_dir
    from pharmacy.formulary_data import ESSENTIAL_MEDICINES

    torch.set_num_threads(1)
    if model_dir() is None:
        pytest.skip("the MiniLM encoder package is not installed")
    cache = tmp_path_factory.mktemp("scribe-cache")
    encoder = SentenceEncoder(model_dir(), cache_dir=cache)
    icd = [c for c in icd_codes_who() if c.code in CODES]
    return Vocabulary.from_formulary_rows(ESSENTIAL_MEDICINES, icd, encoder=encoder, cache_dir=cache)


def test_title_aliases_are_the_plain_forms_a_speaker_says():
    assert title_aliases("Essential (primary) hypertension") == [
        "essential hypertension",
        "essential primary hypertension",
    ]
    assert title_aliases("Asthma, unspecified")[0] == "asthma"
    assert "carpal tunnel syndrome" in title_aliases("Carpal tunnel syndrome")


@pytest.mark.parametrize(
    ("phrase", "language", "code", "method"),
    [
        ("acute upper respiratory infection", "en", "J06.9", "exact"),
        ("fluid overload", "en", "E87.7", "exact"),
        ("essential hypertension", "en", "I10", "exact"),
        ("high blood pressure", "en", "I10", "synonym"),
        ("heart attack", "en", "I21.9", "synonym"),
        ("心衰", "zh", "I50.9", "synonym"),
        ("冠心病", "zh", "I25.1", "synonym"),
    ],
)
def test_exact_and_synonym_matches(phrase, language, code, method):
    candidate = IcdRanker(vocabulary_without_encoder()).exact(phrase, language=language)

    assert candidate is not None
    assert (candidate.code, candidate.method) == (code, method)
    assert candidate.confidence >= 0.9


def test_top_three_put_the_exact_match_first(encoder_vocabulary):
    candidates = IcdRanker(encoder_vocabulary).suggest("fluid overload")

    assert len(candidates) == 3
    assert candidates[0].code == "E87.7"
    assert candidates[0].method == "exact"
    assert [c.method for c in candidates[1:]] == ["encoder", "encoder"]
    assert candidates[0].confidence > candidates[1].confidence >= candidates[2].confidence


@pytest.mark.parametrize(
    ("phrase", "code"),
    [
        ("fluid overload from the heart", "E87.7"),
        ("stones in the gallbladder", "K80.2"),
        ("heartburn and reflux", "K21.9"),
    ],
)
def test_phrases_no_alias_knows_are_ranked_by_the_encoder(encoder_vocabulary, phrase, code):
    ranker = IcdRanker(encoder_vocabulary)
    assert ranker.exact(phrase) is None

    candidates = ranker.rank(phrase)

    assert [c.method for c in candidates] == ["encoder"] * 3
    assert candidates[0].code == code


def test_an_assessment_phrase_becomes_an_encoder_ranked_diagnosis(encoder_vocabulary):
    transcript = Transcript.from_turns(
        [
            ("patient", "I get this pain on the right side after fatty meals."),
            ("doctor", "Let me examine your abdomen. You're tender on the right."),
            ("doctor", "I think you have stones in the gallbladder. We'll get an ultrasound."),
        ]
    )

    [diagnosis] = [s for s in extract(transcript, vocabulary=encoder_vocabulary) if s.field == "diagnosis"]

    assert diagnosis.value["code"] == "K80.2"
    assert diagnosis.value["mention"] == "stones in the gallbladder"
    assert len(diagnosis.value["candidates"]) == 3
    assert diagnosis.model_name == "scribe-icd"
    assert transcript.text[diagnosis.span_start : diagnosis.span_end] == "stones in the gallbladder"


def test_title_embeddings_are_computed_once_and_kept_in_the_cache(encoder_vocabulary, monkeypatch):
    IcdRanker(encoder_vocabulary).rank("asthma")
    files = list(encoder_vocabulary.encoder.cache_dir.glob("icd10-titles-*.npy"))
    assert len(files) == 1

    from ai.scribe.engine.encoder import SentenceEncoder

    fresh = SentenceEncoder(encoder_vocabulary.encoder.path, cache_dir=encoder_vocabulary.encoder.cache_dir)
    embedded: list[int] = []
    original = fresh.embed

    def counting(texts):
        embedded.append(len(texts))
        return original(texts)

    monkeypatch.setattr(fresh, "embed", counting)
    titles = [encoder_vocabulary.icd[c].title for c in sorted(c.code for c in encoder_vocabulary.leaf_codes())]
    matrix = fresh.matrix(titles, label="icd10-titles")

    assert matrix.shape == (len(titles), 384)
    assert embedded == []  # read from the file, not embedded again
