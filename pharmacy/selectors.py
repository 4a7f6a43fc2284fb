"""Reads of the formulary. The formulary is reference data, not patient data: any signed-in user may
read it and reads are not access-logged."""

import unicodedata
import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import BooleanField, Case, F, Func, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Greatest, Lower

from pharmacy.models import Drug


class _ILike(Func):
    # ILIKE on the bare column, so that the GIN trigram indexes on the name columns serve it
    # (Django's icontains wraps the column in UPPER(), which those indexes cannot serve).
    arg_joiner = " ILIKE "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class _WordSimilar(Func):
    # `query <% column`: some word of the column is similar to the query (pg_trgm's
    # word_similarity_threshold, 0.6 by default); catches misspellings such as "amoxycilin".
    arg_joiner = " <%% "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _synonyms_text() -> Func:
    return Func(F("synonyms"), Value(" "), function="array_to_string", output_field=TextField())


def _lower_synonyms() -> Func:
    # Lower-cases each synonym: array -> text joined by a control character -> lower -> array.
    joined = Func(F("synonyms"), Value("\x1f"), function="array_to_string", output_field=TextField())
    return Func(Lower(joined), Value("\x1f"), function="string_to_array", output_field=ArrayField(TextField()))


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def drug_list(*, query: str = "", high_alert: bool | None = None, active_only: bool = True) -> QuerySet[Drug]:
    """Formulary drugs, optionally matching a search text, best matches first.

    Without `query`, all drugs in name, form and strength order. With it, drugs whose English or
    Chinese name or a synonym contains the text (case-insensitive), or whose English name or a
    synonym has a word similar to it (trigram), ordered: exact name or synonym first, then prefix
    matches, then the rest by similarity. `high_alert` filters on the flag when not None.
    """
    drugs = Drug.objects.all()
    if active_only:
        drugs = drugs.filter(is_active=True)
    if high_alert is not None:
        drugs = drugs.filter(high_alert=high_alert)
    query = _normalise(query)
    if not query:
        return drugs.order_by("generic_name_en", "form", "strength")

    synonyms = _synonyms_text()
    contains = Value(f"%{_like_escape(query)}%")
    prefix = Value(f"{_like_escape(query)}%")
    exact = Value(_like_escape(query))
    drugs = drugs.alias(synonyms_text=synonyms, synonyms_lower=_lower_synonyms()).filter(
        _ILike(F("generic_name_en"), contains)
        | _ILike(F("generic_name_zh"), contains)
        | _ILike(F("synonyms_text"), contains)
        | _WordSimilar(Value(query), F("generic_name_en"))
        | _WordSimilar(Value(query), F("synonyms_text"))
    )
    return drugs.annotate(
        match_rank=Case(
            When(
                Q(_ILike(F("generic_name_en"), exact))
                | Q(generic_name_zh=query)
                | Q(synonyms_lower__contains=[query.lower()]),
                then=Value(0),
            ),
            When(
                Q(_ILike(F("generic_name_en"), prefix))
                | Q(_ILike(F("generic_name_zh"), prefix))
                | Q(_ILike(F("synonyms_text"), prefix))
                | Q(_ILike(F("synonyms_text"), Value(f"% {_like_escape(query)}%"))),
                then=Value(1),
            ),
            default=Value(2),
            output_field=IntegerField(),
        ),
        similarity=Greatest(
            TrigramWordSimilarity(query, "generic_name_en"),
            TrigramWordSimilarity(query, "synonyms_text"),
        ),
    ).order_by("match_rank", "-similarity", "generic_name_en", "form", "strength")


def drug_search(*, query: str, limit: int = 20, active_only: bool = True) -> list[Drug]:
    """At most `limit` drugs matching `query` (names in English and Chinese, synonyms), best first.

    See drug_list for the matching and the order. An empty query finds nothing.
    """
    if not _normalise(query):
        return []
    return list(drug_list(query=query, active_only=active_only)[:limit])


def drug_get(external_id: uuid.UUID | str) -> Drug:
    """The drug with this external id, active or not (old orders still show retired drugs).

    Raises Drug.DoesNotExist, also for a malformed id.
    """
    try:
        external_id = uuid.UUID(str(external_id))
    except ValueError as exc:
        raise Drug.DoesNotExist(f"No drug {external_id!r}.") from exc
    return Drug.objects.get(external_id=external_id)


def drug_lookup_by_name(name: str, *, active_only: bool = True) -> list[Drug]:
    """Drugs whose English name, Chinese name or a synonym equals `name`, all forms and strengths.

    For matching a spoken or typed medication name to the formulary: case, surrounding and repeated
    spaces and full-width characters are ignored, but the whole name must match (no partial words).
    Ordered by name, form and strength; empty when nothing matches.
    """
    normalised = _normalise(name)
    if not normalised:
        return []
    lowered = normalised.lower()
    drugs = Drug.objects.alias(name_en_lower=Lower("generic_name_en"), synonyms_lower=_lower_synonyms()).filter(
        Q(name_en_lower=lowered) | Q(generic_name_zh=normalised) | Q(synonyms_lower__contains=[lowered])
    )
    if active_only:
        drugs = drugs.filter(is_active=True)
    return list(drugs.order_by("generic_name_en", "form", "strength"))
