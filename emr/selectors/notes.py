"""Reads of clinical notes: the timeline, the versions of a note, and full-text search across notes.

Which notes a user sees of a patient they may read: the current (newest signed) version of every
thread, and their own drafts. Older signed versions stay readable through `note_versions`.

Full-text search uses the note's `search_vector`, which the database keeps (migration 0004 explains
how Chinese text is indexed as character bigrams); `note_search_query` builds the matching query.
"""

import html
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat

from emr.models import ClinicalNote, NoteDiagnosis
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

# The same character classes as the database functions of migration 0004.
HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+")
# Selection markers of ts_headline: control characters that clinical text does not contain, so the
# snippet can be HTML-escaped first and the markers turned into <mark> afterwards.
START_SEL, STOP_SEL = "\x02", "\x03"
SNIPPET_CONTEXT = 40  # characters of Chinese text shown either side of a match
SEARCH_MAX_QUERY = 200


def _diagnoses_prefetch() -> Prefetch:
    return Prefetch("diagnoses", queryset=NoteDiagnosis.objects.select_related("icd10").order_by("rank", "id"))


def notes_with_related() -> QuerySet[ClinicalNote]:
    """Notes with everything their display needs joined or prefetched (two queries for any number of notes)."""
    return ClinicalNote.objects.select_related(
        "patient", "encounter", "author", "signed_by", "amends"
    ).prefetch_related(_diagnoses_prefetch())


def current_or_own_draft_q(user: User | None) -> Q:
    """Notes a reader sees in lists: the newest signed version of each thread, and `user`'s own drafts."""
    newer_signed = ClinicalNote.objects.filter(
        thread=OuterRef("thread"), status=ClinicalNote.Status.SIGNED, version__gt=OuterRef("version")
    )
    condition = Q(status=ClinicalNote.Status.SIGNED) & ~Q(Exists(newer_signed))
    if user is not None and user.is_authenticated:
        condition |= Q(status=ClinicalNote.Status.DRAFT, author=user)
    return condition


def note_timeline(*, patient_ids: Iterable[int], fetched_by: User | None = None, limit: int = 50) -> list[ClinicalNote]:
    """The notes of these patients, newest first: current signed versions, plus `fetched_by`'s own drafts.

    Diagnoses (with their ICD-10 codes), author, signer, encounter and the amended version come along:
    two queries however many notes. The caller has checked access to the patients and logs the read.
    """
    notes = (
        notes_with_related()
        .filter(patient_id__in=list(patient_ids))
        .filter(current_or_own_draft_q(fetched_by))
        .order_by("-created_at", "-id")
    )
    return list(notes[:limit])


def note_versions(*, thread: uuid.UUID, fetched_by: User | None = None) -> list[ClinicalNote]:
    """Every version of a note thread, oldest first, with diagnoses; other users' drafts left out when
    `fetched_by` is given. The caller has checked access to the patient and logs the read."""
    notes = notes_with_related().filter(thread=thread).order_by("version")
    if fetched_by is not None:
        notes = notes.exclude(Q(status=ClinicalNote.Status.DRAFT) & ~Q(author=fetched_by))
    return list(notes)


def _han_bigrams(run: str) -> str:
    return " ".join(run[i : i + 2] for i in range(len(run) - 1))


def note_search_query(text: str) -> SearchQuery | None:
    """The tsquery for a search text, matching how migration 0004 indexes notes (None: nothing to search).

    Latin-script words are ANDed (plainto_tsquery, 'simple'); each run of Han characters must occur as
    a phrase of its character bigrams, a single Han character as a prefix of an indexed bigram.
    """
    text = (text or "")[:SEARCH_MAX_QUERY]
    parts: list[SearchQuery] = []
    latin = CJK_PUNCTUATION.sub(" ", HAN_RUN.sub(" ", text)).strip()
    if re.search(r"\w", latin):
        parts.append(SearchQuery(latin, config="simple", search_type="plain"))
    for run in HAN_RUN.findall(text):
        if len(run) == 1:
            # A Han character has no tsquery syntax in it, so it can be quoted as it is.
            parts.append(SearchQuery(f"'{run}':*", config="simple", search_type="raw"))
        else:
            parts.append(SearchQuery(_han_bigrams(run), config="simple", search_type="phrase"))
    if not parts:
        return None
    query = parts[0]
    for part in parts[1:]:
        query &= part
    return query


@dataclass(frozen=True)
class NoteSearchHit:
    """One note found by a search, its rank and an HTML snippet (escaped, matches in <mark>)."""

    note: ClinicalNote
    rank: float
    snippet: str


def _note_text() -> Concat:
    pieces: list = []
    for name in ClinicalNote.TEXT_FIELDS:
        pieces += [F(name), Value(" \n ")]
    return Concat(*pieces[:-1], output_field=TextField())


def _marked_html(headline: str) -> str:
    return html.escape(headline).replace(START_SEL, "<mark>").replace(STOP_SEL, "</mark>")


def _han_snippet(note: ClinicalNote, runs: list[str]) -> str:
    # ts_headline cannot mark Chinese (its parser sees a whole run of Han characters as one word), so the
    # snippet around the first Chinese match is cut here.
    for name in ClinicalNote.TEXT_FIELDS:
        text = getattr(note, name)
        for run in runs:
            at = text.find(run)
            if at < 0:
                continue
            start, end = max(0, at - SNIPPET_CONTEXT), min(len(text), at + len(run) + SNIPPET_CONTEXT)
            return (
                ("…" if start else "")
                + html.escape(text[start:at])
                + "<mark>"
                + html.escape(run)
                + "</mark>"
                + html.escape(text[at + len(run) : end])
                + ("…" if end < len(text) else "")
            )
    return ""


def note_search(*, query: str, fetched_by: User, limit: int = 50) -> list[NoteSearchHit]:
    """Full-text search across the notes `fetched_by` may read, best match first, with snippets.

    Scope: notes of the patients emr.selectors.access.patients_visible_to(fetched_by) gives (none for
    roles without clinical access), current signed versions and the user's own drafts. Ranked by
    ts_rank (chief complaint and assessment weigh most). One query for the notes, then ONE "search"
    access-log entry with the kind of query, the number of results and the patients found; the
    search text itself is not logged (it may contain identifiers). A blank query returns [] and logs
    nothing.
    """
    from emr.selectors.access import patients_visible_to

    search_query = note_search_query(query)
    if search_query is None:
        return []
    notes = (
        ClinicalNote.objects.select_related("patient", "encounter", "author")
        .filter(patient__in=patients_visible_to(fetched_by))
        .filter(current_or_own_draft_q(fetched_by))
        .filter(search_vector=search_query)
        .annotate(
            rank=SearchRank(F("search_vector"), search_query),
            headline=SearchHeadline(
                _note_text(),
                search_query,
                config="simple",
                start_sel=START_SEL,
                stop_sel=STOP_SEL,
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "-created_at", "-id")[:limit]
    )
    runs = HAN_RUN.findall(query[:SEARCH_MAX_QUERY])
    hits = []
    for note in notes:
        snippet = _marked_html(note.headline) if START_SEL in note.headline else ""
        if not snippet and runs:
            snippet = _han_snippet(note, runs)
        hits.append(NoteSearchHit(note=note, rank=float(note.rank), snippet=snippet or _marked_html(note.headline)))

    has_han, has_latin = bool(runs), bool(re.search(r"\w", HAN_RUN.sub(" ", query)))
    access_log_record(
        actor=fetched_by,
        action="search",
        object_type="emr.clinicalnote",
        detail={
            "query_kind": "full_text",
            "script": "mixed" if has_han and has_latin else "han" if has_han else "latin",
            "results": len(hits),
            "patients": sorted({str(hit.note.patient.external_id) for hit in hits}),
        },
    )
    return hits
