"""Reads of reference terminology: finding and looking up WHO ICD-10 codes.

ICD-10 is reference data, not patient data: these reads are not access-logged.
"""

import re

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import ValidationError
from django.db.models import Case, F, FloatField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from emr.models import Icd10Code

SEARCH_LIMIT_MAX = 100

# A category or subcategory code as a user types it: a letter, two digits, then up to two more digits with
# or without the dot ("I21", "i21.9", "I219", "B18.19").
_CODE_QUERY = re.compile(r"^[A-Z]\d{1,2}(?:\.?\d{0,2})?$")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def icd10_normalize(code: str) -> str:
    """The code as WHO writes it: upper case, no spaces, the dot after the third character ("i219" -> "I21.9").

    Chapters (Roman numerals) and blocks ("I20-I25") come back upper-cased and otherwise unchanged.
    """
    code = re.sub(r"\s+", "", code or "").upper()
    if re.fullmatch(r"[A-Z]\d{2}\d{1,2}", code):
        code = f"{code[:3]}.{code[3:]}"
    return code


def icd10_get(code: str) -> Icd10Code:
    """The ICD-10 entry for `code`, written with or without the dot and in any case ("i21.9", "I219").

    Raises django.core.exceptions.ValidationError (code "icd10_unknown") whose message names the code when
    there is no such entry. Callers that record a diagnosis also check `is_leaf`.
    """
    normalized = icd10_normalize(code)
    try:
        return Icd10Code.objects.get(code=normalized)
    except Icd10Code.DoesNotExist:
        raise ValidationError(
            _("“%(code)s” is not a WHO ICD-10 code."), code="icd10_unknown", params={"code": code}
        ) from None


def _code_prefix(query: str) -> str | None:
    compact = query.replace(" ", "").upper()
    if not _CODE_QUERY.match(compact):
        return None
    return icd10_normalize(compact.replace(".", ""))


def _ranked(entries: QuerySet[Icd10Code], query: str) -> QuerySet[Icd10Code]:
    # Codes common in practice (those given a Chinese title) first, then the title closest to the whole query.
    return entries.annotate(
        common=Case(When(title_zh="", then=Value(1)), default=Value(0), output_field=IntegerField()),
        similarity=Greatest(
            TrigramSimilarity("title", query), TrigramSimilarity("title_zh", query), output_field=FloatField()
        ),
    ).order_by("common", "-similarity", "code")


def _union_pks(branches: list[Q]) -> QuerySet:
    # A UNION of single conditions, each answered from a GIN trigram index. Written as one OR, the planner
    # prices the index scans above a sequential scan and then runs the regular expressions or similarities
    # over all 12,000 titles: about 100 ms instead of a few.
    first, *others = (Icd10Code.objects.filter(branch).order_by().values("pk") for branch in branches)
    return first.union(*others)


def icd10_search(*, query: str, limit: int = 20, leaf_only: bool = True) -> list[Icd10Code]:
    """ICD-10 entries matching `query` by code or words, best first, at most `limit` (capped at 100).

    A query that looks like a code ("I21", "i21.9", "I219") finds the entries whose code starts with it, in
    code order. Any other query finds the entries whose English title contains every word of the query as a
    whole word (case-insensitive; the last word may be the start of a word, as typed so far) or whose Chinese
    title contains the query; when there are none, the entries whose titles are similar (pg_trgm word
    similarity, which forgives typos). Codes common in practice (those with a Chinese title) come first,
    then the title most similar to the whole query. `leaf_only` keeps recordable codes (no chapters, blocks,
    or categories that have subcategories). An empty query, or one with neither letters, digits nor Chinese
    characters, gives an empty list. One SQL query; a second one when nothing matched as typed.
    """
    query = (query or "").strip()
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    if not query:
        return []

    entries: QuerySet[Icd10Code] = Icd10Code.objects.all()
    if leaf_only:
        entries = entries.filter(is_leaf=True)
    prefix = _code_prefix(query)
    if prefix:
        return list(entries.filter(code__startswith=prefix).order_by("code")[:limit])

    words = _LATIN_WORD.findall(query)
    has_han = bool(_HAN.search(query))
    if not words and not has_han:
        return []
    exact = Q(pk__in=[])
    exact_branches: list[Q] = []
    similar_branches: list[Q] = []
    if words:
        # \m and \M are PostgreSQL's word boundaries. The last word may be unfinished (the picker searches as
        # the user types), so it only has to start a word. Rows holding every word are a subset of those
        # holding the longest one: that word's regular expression is the one sent to the index.
        patterns = [rf"\m{re.escape(word)}\M" for word in words[:-1]] + [rf"\m{re.escape(words[-1])}"]
        all_words = Q()
        for pattern in patterns:
            all_words &= Q(title__iregex=pattern)
        exact |= all_words
        exact_branches.append(Q(title__iregex=max(patterns, key=len)))
        # Lookups used as expressions: django.contrib.postgres need not be an installed app for them.
        similar_branches.append(Q(TrigramWordSimilar(F("title"), Value(query))))
    if has_han:
        # Chinese has neither case nor spaces between words: a substring test.
        exact |= Q(title_zh__contains=query)
        exact_branches.append(Q(title_zh__contains=query))
        similar_branches.append(Q(TrigramWordSimilar(F("title_zh"), Value(query))))

    found = list(_ranked(entries.filter(exact, pk__in=_union_pks(exact_branches)), query)[:limit])
    if not found:
        # Similar titles only when nothing matches as typed: a sequential scan of the word similarity costs
        # about 100 ms, and PostgreSQL picks one for queries made of frequent trigrams.
        similar = entries.filter(pk__in=_union_pks(similar_branches))
        found = list(_ranked(similar, query)[:limit])
    return found
