"""`manage.py rotate_field_keys`: re-encrypts under the newest key in batches, idempotently; --reindex; --dry-run."""

import base64
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from hospital.core.fields import blind_index_lookup
from tests.testapp.models import SecretNote

VALUES = [
    ("入院记录：胸痛", "110101199003077777X"),
    ("discharge letter", "+86 138 0013 8000"),
    (None, "A-123"),
    ("", None),
    ("only body", None),
]


@pytest.fixture
def keys():
    return {1: os.urandom(32), 2: os.urandom(32)}


@pytest.fixture
def notes_under_v1(db, keys):
    with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[1]}):
        return [SecretNote.objects.create(body=body, national_id=nid) for body, nid in VALUES]


def raw_tokens() -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, body, national_id, national_id_index FROM testapp_secretnote")
        return {row[0]: row[1:] for row in cursor.fetchall()}


def versions() -> set[str]:
    return {token.split(":")[1] for row in raw_tokens().values() for token in row[:2] if token is not None}


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_field_keys", *args, stdout=out)
    return out.getvalue()


def values_by_pk() -> dict[int, tuple]:
    return {n.pk: (n.body, n.national_id) for n in SecretNote.objects.all()}


def test_moves_every_row_to_the_newest_key_in_batches_and_keeps_values(notes_under_v1, keys):
    expected = {n.pk: (body, nid) for n, (body, nid) in zip(notes_under_v1, VALUES, strict=True)}
    indexes_before = {pk: row[2] for pk, row in raw_tokens().items()}
    assert versions() == {"1"}

    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        output = rotate("--batch-size", "2")

    assert "testapp.SecretNote: 5 re-encrypted, 0 already on key 2" in output
    assert versions() == {"2"}
    assert {pk: row[2] for pk, row in raw_tokens().items()} == indexes_before
    # Key 1 is no longer needed: every value opens with key 2 alone.
    with override_settings(FIELD_ENCRYPTION_KEYS={2: keys[2]}):
        assert values_by_pk() == expected


def test_second_run_changes_nothing(notes_under_v1, keys):
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        rotate()
        tokens_after_first = raw_tokens()

        output = rotate()

    assert "testapp.SecretNote: 0 re-encrypted, 5 already on key 2" in output
    assert raw_tokens() == tokens_after_first


def test_rows_already_current_are_skipped(notes_under_v1, keys):
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        SecretNote.objects.create(body="written under key 2")
        first = notes_under_v1[0]
        first.refresh_from_db()
        first.save()  # saving moves this row forward on its own
        output = rotate()

    assert "testapp.SecretNote: 4 re-encrypted, 2 already on key 2" in output
    assert versions() == {"2"}


def test_dry_run_reports_and_writes_nothing(notes_under_v1, keys):
    before = raw_tokens()

    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        output = rotate("--dry-run")

    assert "testapp.SecretNote: 5 would be re-encrypted, 0 already on key 2" in output
    assert raw_tokens() == before


def test_old_key_still_decrypts_when_the_command_has_not_run(notes_under_v1, keys):
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        assert values_by_pk() == {n.pk: v for n, v in zip(notes_under_v1, VALUES, strict=True)}


def test_reindex_after_a_blind_index_key_change(notes_under_v1, keys):
    new_blind_key = base64.b64encode(os.urandom(32)).decode()
    target = notes_under_v1[0]

    with override_settings(FIELD_ENCRYPTION_KEYS=keys, BLIND_INDEX_KEY=new_blind_key):
        assert not SecretNote.objects.filter(blind_index_lookup(SecretNote, "national_id", "110101199003077777x"))

        output = rotate("--reindex", "--batch-size", "2")

        assert "3 reindexed" in output
        found = SecretNote.objects.get(blind_index_lookup(SecretNote, "national_id", "110101199003077777x"))
        assert found.pk == target.pk
        assert SecretNote.objects.get(blind_index_lookup(SecretNote, "national_id", "8613800138000")).body == (
            "discharge letter"
        )
    assert versions() == {"2"}


def test_a_tampered_row_stops_the_run_and_names_it(notes_under_v1, keys):
    victim = notes_under_v1[1]
    token = raw_tokens()[victim.pk][0]
    tampered = token[:-3] + ("B" if token[-3] == "A" else "A") + token[-2:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE testapp_secretnote SET body = %s WHERE id = %s", [tampered, victim.pk])

    with override_settings(FIELD_ENCRYPTION_KEYS=keys), pytest.raises(CommandError, match=f"id={victim.pk}"):
        rotate("--batch-size", "1")


def test_a_missing_old_key_is_reported(notes_under_v1, keys):
    with override_settings(FIELD_ENCRYPTION_KEYS={2: keys[2]}), pytest.raises(CommandError, match="key version 1"):
        rotate()


def test_unknown_model_label_is_refused(db):
    with pytest.raises(CommandError, match="no.such"):
        rotate("--model", "no.Such")
