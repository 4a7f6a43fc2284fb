"""The hallucination guard drops Whisper's stock phrases and loops and keeps what was really said."""

import pytest

from ai.scribe.engine.guard import RawSegment, Word, apply_guard, collapse_loops, stock_phrase


def seg(text: str, start: float = 0.0, end: float = 2.0, **kw) -> RawSegment:
    return RawSegment(
        start=start, end=end, text=text, avg_logprob=kw.get("lp", -0.3), no_speech_prob=kw.get("ns", 0.01)
    )


def worded(text: str) -> RawSegment:
    """A segment with word timings, one word every 0.3 s, as Whisper gives them."""
    tokens = text.split()
    words = [Word(0.3 * i, 0.3 * i + 0.25, " " + t) for i, t in enumerate(tokens)]
    return RawSegment(start=0.0, end=words[-1].end, text=" " + " ".join(tokens), words=words, avg_logprob=-0.2)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for watching!",
        "Thank you for watching.",
        "Please subscribe to my channel.",
        "Subtitles by the Amara.org community",
        "字幕由Amara.org社区提供",
        "谢谢观看",
        "請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目",
        "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    ],
)
def test_stock_phrases_are_dropped(text):
    kept, dropped = apply_guard([seg("I have had a cough for three days.", 0, 3), seg(text, 3, 5)])

    assert [s.text for s in kept] == ["I have had a cough for three days."]
    assert len(dropped) == 1 and "stock subtitle phrase" in dropped[0]


@pytest.mark.parametrize(
    "text",
    [
        "I subscribe to a pharmacy delivery service for my inhalers.",
        "Thank you, doctor.",
        "The subtitles on the leaflet were too small for me to read.",
        "我看不清说明书上的字，字太小了。",
    ],
)
def test_real_speech_near_stock_phrases_is_kept(text):
    assert stock_phrase(text) is None
    kept, dropped = apply_guard([seg(text)])

    assert [s.text for s in kept] == [text] and dropped == []


def test_a_repetition_loop_inside_a_segment_is_collapsed_with_its_words():
    loop = worded("the pain is in my chest " + "and my arm " * 9)

    kept, dropped = apply_guard([loop])

    assert kept[0].text == "the pain is in my chest and my arm"
    assert [w.text.strip() for w in kept[0].words] == ["the", "pain", "is", "in", "my", "chest", "and", "my", "arm"]
    assert kept[0].end == kept[0].words[-1].end
    assert len(dropped) == 1 and "“and my arm” × 9" in dropped[0]


def test_a_single_word_loop_is_collapsed_but_a_few_repeats_are_speech():
    fixed, notes = collapse_loops(seg("no no no no no no no no no no no no"))
    assert fixed.text == "no" and notes

    for text in ("No, no, no, it doesn't hurt.", "Thank you, thank you, thank you."):
        fixed, notes = collapse_loops(seg(text))
        assert fixed.text == text and notes == []


def test_a_chinese_character_loop_is_collapsed_but_laughter_is_not():
    fixed, _ = collapse_loops(seg("我头痛头痛头痛头痛头痛头痛头痛头痛"))
    assert fixed.text == "我头痛"

    fixed, notes = collapse_loops(seg("哈哈哈哈，好的。"))
    assert fixed.text == "哈哈哈哈，好的。" and notes == []


def test_the_same_segment_repeated_in_a_row_keeps_the_first():
    segments = [seg("How long have you had the cough?", 0, 2)]
    segments += [seg("I'm going to take your blood pressure.", 2 + i, 3 + i) for i in range(4)]
    segments.append(seg("Okay.", 7, 8))

    kept, dropped = apply_guard(segments)

    assert [s.text for s in kept] == [
        "How long have you had the cough?",
        "I'm going to take your blood pressure.",
        "Okay.",
    ]
    assert len(dropped) == 3 and all("repeated segment" in d for d in dropped)


def test_short_answers_repeated_by_turns_are_kept():
    segments = [seg("Yes.", 0, 1), seg("Yes.", 1, 2), seg("Any fever?", 2, 3), seg("No.", 3, 4), seg("No.", 4, 5)]

    kept, dropped = apply_guard(segments)

    assert len(kept) == 5 and dropped == []


def test_a_segment_whisper_thinks_is_not_speech_is_dropped():
    noise = seg("Thank you.", 10, 12, ns=0.9, lp=-1.4)
    unsure_but_speech = seg("Amlodipine five milligrams.", 12, 14, ns=0.7, lp=-0.4)

    kept, dropped = apply_guard([noise, unsure_but_speech])

    assert [s.text for s in kept] == ["Amlodipine five milligrams."]
    assert "probably not speech" in dropped[0] and "10.0–12.0 s" in dropped[0]


def test_text_that_still_compresses_like_a_loop_is_dropped():
    # long-period repetition the n-gram rule does not reach (the repeated unit is longer than 8 words)
    unit = "the patient was advised to return if the symptoms got worse over the weekend "
    kept, dropped = apply_guard([seg(unit * 6)])

    assert kept == []
    assert "compression ratio" in dropped[0]
