"""Encrypted model fields: ciphertext at rest, tamper and swap detection, key versions, blind index, write guards."""

import base64
import hashlib
import os
import uuid

import pytest
from django.core.exceptions import FieldError
from django.db import connection, models, transaction
from django.test import override_settings
from django.test.utils import isolate_apps

from hospital.core import crypto
from hospital.core.fields import (
    BlindIndexField,
    DecryptionError,
    EncryptedTextField,
    PlaintextWriteError,
    UnknownKeyVersionError,
    blind_index_lookup,
)
from hospital.core.models import BaseModel
from tests.testapp.models import SecretNote

NATIONAL_ID = "110101199003077777X"
BODY = "患者主诉胸痛三天，既往高血压。 Chest pain for three days."


def new_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def keys():
    """Two fresh key versions; tests pick which of them the ring holds."""
    return {1: new_key(), 2: new_key()}


@pytest.fixture
def ring_v1(keys):
    with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[1]}):
        yield


def raw_row(note: SecretNote) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, national_id, national_id_index FROM testapp_secretnote WHERE id = %s", [note.pk])
        body, national_id, index = cursor.fetchone()
    return {"body": body, "national_id": national_id, "national_id_index": index}


def raw_set(note: SecretNote, column: str, value) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE testapp_secretnote SET {column} = %s WHERE id = %s", [value, note.pk])


def flip_byte(token: str, position: int) -> str:
    fmt, version, body = token.split(":")
    blob = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    blob[position] ^= 0x01
    return f"{fmt}:{version}:{base64.urlsafe_b64encode(bytes(blob)).rstrip(b'=').decode()}"


@pytest.mark.django_db
class TestAtRest:
    def test_database_column_holds_ciphertext_not_the_value(self, ring_v1):
        note = SecretNote.objects.create(title="t", body=BODY, national_id=NATIONAL_ID)

        row = raw_row(note)

        assert row["body"].startswith("enc1:1:")
        assert row["national_id"].startswith("enc1:1:")
        for column in row.values():
            assert BODY not in column
            assert NATIONAL_ID not in column
            assert NATIONAL_ID.lower() not in column

    def test_same_value_encrypts_differently_each_time(self, ring_v1):
        a = SecretNote.objects.create(body="same")
        b = SecretNote.objects.create(body="same")

        assert raw_row(a)["body"] != raw_row(b)["body"]

    @pytest.mark.parametrize("value", [BODY, "", "a", "😀 emoji and \x00 nul", "x" * 10_000])
    def test_round_trip_from_a_fresh_query(self, ring_v1, value):
        note = SecretNote.objects.create(body=value)

        assert SecretNote.objects.get(pk=note.pk).body == value

    def test_empty_string_is_encrypted_and_none_stays_null(self, ring_v1):
        note = SecretNote.objects.create(body="", national_id=None)

        row = raw_row(note)
        assert row["body"].startswith("enc1:1:")
        assert row["national_id"] is None
        assert row["national_id_index"] is None
        fresh = SecretNote.objects.get(pk=note.pk)
        assert fresh.body == ""
        assert fresh.national_id is None

    def test_changing_a_value_and_saving_stores_the_new_value(self, ring_v1):
        note = SecretNote.objects.create(body="first")
        note = SecretNote.objects.get(pk=note.pk)
        note.body = "second"
        note.save()

        assert SecretNote.objects.get(pk=note.pk).body == "second"

    def test_deferred_field_loads_and_decrypts_on_access(self, ring_v1):
        note = SecretNote.objects.create(body=BODY)

        fresh = SecretNote.objects.only("id").get(pk=note.pk)

        assert fresh.body == BODY

    def test_bulk_create_encrypts_and_indexes(self, ring_v1):
        SecretNote.objects.bulk_create([SecretNote(body=f"note {i}", national_id=f"ID-{i}") for i in range(3)])

        notes = list(SecretNote.objects.order_by("id"))
        assert [n.body for n in notes] == ["note 0", "note 1", "note 2"]
        assert all(raw_row(n)["body"].startswith("enc1:1:") for n in notes)
        assert SecretNote.objects.get(blind_index_lookup(SecretNote, "national_id", "id 1")).body == "note 1"


@pytest.mark.django_db
class TestTamperAndSwap:
    @pytest.mark.parametrize("position", [0, 12, -1])  # nonce, ciphertext, tag
    def test_a_flipped_byte_fails_loudly_on_read(self, ring_v1, position):
        note = SecretNote.objects.create(title="kept readable", body=BODY)
        raw_set(note, "body", flip_byte(raw_row(note)["body"], position))

        fresh = SecretNote.objects.get(pk=note.pk)

        assert fresh.title == "kept readable"  # other columns of the row still load
        with pytest.raises(DecryptionError, match="failed authentication"):
            _ = fresh.body

    @pytest.mark.parametrize(
        "damage",
        [
            lambda token: token[:20],  # truncated
            lambda token: token.replace("enc1:", "enc2:", 1),  # unknown format
            lambda token: "plain text someone wrote with SQL",
            lambda token: token[:-4] + "!!!!",  # not base64
        ],
    )
    def test_malformed_token_fails_loudly(self, ring_v1, damage):
        note = SecretNote.objects.create(body=BODY)
        raw_set(note, "body", damage(raw_row(note)["body"]))

        with pytest.raises(DecryptionError):
            _ = SecretNote.objects.get(pk=note.pk).body

    def test_ciphertext_copied_to_another_row_fails(self, ring_v1):
        alice = SecretNote.objects.create(national_id="ALICE-1")
        bob = SecretNote.objects.create(national_id="BOB-2")
        raw_set(bob, "national_id", raw_row(alice)["national_id"])

        with pytest.raises(DecryptionError):
            _ = SecretNote.objects.get(pk=bob.pk).national_id

    def test_ciphertext_copied_to_another_column_of_the_same_row_fails(self, ring_v1):
        note = SecretNote.objects.create(body="body text", national_id="ID-1")
        raw_set(note, "body", raw_row(note)["national_id"])

        with pytest.raises(DecryptionError):
            _ = SecretNote.objects.get(pk=note.pk).body

    def test_a_changed_key_version_label_fails(self, keys):
        with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[1]}):
            note = SecretNote.objects.create(body=BODY)
        token = raw_row(note)["body"]
        raw_set(note, "body", token.replace("enc1:1:", "enc1:2:", 1))

        with override_settings(FIELD_ENCRYPTION_KEYS=keys), pytest.raises(DecryptionError):
            _ = SecretNote.objects.get(pk=note.pk).body


@pytest.mark.django_db
class TestKeyVersions:
    def test_old_key_still_decrypts_after_a_new_version_is_added(self, keys):
        with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[1]}):
            old = SecretNote.objects.create(body=BODY, national_id=NATIONAL_ID)

        with override_settings(FIELD_ENCRYPTION_KEYS=keys):
            fresh = SecretNote.objects.get(pk=old.pk)
            assert fresh.body == BODY
            assert fresh.national_id == NATIONAL_ID
            new = SecretNote.objects.create(body="written after rotation")

        assert raw_row(old)["body"].startswith("enc1:1:")
        assert raw_row(new)["body"].startswith("enc1:2:")

    def test_a_removed_key_version_is_reported_not_guessed(self, keys):
        with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[1]}):
            note = SecretNote.objects.create(body=BODY)

        with override_settings(FIELD_ENCRYPTION_KEYS={2: keys[2]}):
            fresh = SecretNote.objects.get(pk=note.pk)
            with pytest.raises(UnknownKeyVersionError, match="key version 1"):
                _ = fresh.body

    def test_a_different_key_under_the_same_version_fails(self, keys):
        with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[1]}):
            note = SecretNote.objects.create(body=BODY)

        with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[2]}), pytest.raises(DecryptionError):
            _ = SecretNote.objects.get(pk=note.pk).body

    def test_saving_a_row_moves_its_untouched_values_to_the_newest_key(self, keys):
        with override_settings(FIELD_ENCRYPTION_KEYS={1: keys[1]}):
            note = SecretNote.objects.create(title="a", body=BODY, national_id=NATIONAL_ID)
            index_before = raw_row(note)["national_id_index"]

        with override_settings(FIELD_ENCRYPTION_KEYS=keys):
            fresh = SecretNote.objects.get(pk=note.pk)
            fresh.title = "b"
            fresh.save()
            row = raw_row(note)
            assert row["body"].startswith("enc1:2:")
            assert row["national_id"].startswith("enc1:2:")
            assert row["national_id_index"] == index_before
            assert SecretNote.objects.get(pk=note.pk).body == BODY

    def test_key_ring_may_be_given_as_text(self, keys):
        text = ",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in keys.items())
        with override_settings(FIELD_ENCRYPTION_KEYS=text):
            note = SecretNote.objects.create(body=BODY)
            assert raw_row(note)["body"].startswith("enc1:2:")
            assert SecretNote.objects.get(pk=note.pk).body == BODY


@pytest.mark.django_db
class TestBlindIndex:
    def test_finds_exact_matches_after_normalisation(self, ring_v1):
        target = SecretNote.objects.create(national_id=NATIONAL_ID)
        SecretNote.objects.create(national_id="110101199003077778")

        full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in NATIONAL_ID)  # as typed with a Chinese IME
        for typed in [NATIONAL_ID.lower(), f" {NATIONAL_ID[:6]}-{NATIONAL_ID[6:14]}-{NATIONAL_ID[14:]} ", full_width]:
            found = SecretNote.objects.filter(blind_index_lookup(SecretNote, "national_id", typed))
            assert list(found) == [target], typed

    def test_does_not_match_a_different_value_or_a_blank_search(self, ring_v1):
        SecretNote.objects.create(national_id=NATIONAL_ID)
        SecretNote.objects.create(national_id=None)

        assert not SecretNote.objects.filter(blind_index_lookup(SecretNote, "national_id", "110101199003077778"))
        assert not SecretNote.objects.filter(blind_index_lookup(SecretNote, "national_id", " - "))
        assert not SecretNote.objects.filter(blind_index_lookup(SecretNote, "national_id", None))

    def test_index_is_neither_the_value_nor_an_unkeyed_hash(self, ring_v1):
        note = SecretNote.objects.create(national_id=NATIONAL_ID)
        stored = raw_row(note)["national_id_index"]

        normalized = "110101199003077777x"
        assert len(stored) == 64
        assert normalized not in stored
        assert NATIONAL_ID not in stored
        for candidate in (NATIONAL_ID, normalized):
            assert stored != hashlib.sha256(candidate.encode()).hexdigest()
            assert stored != hashlib.sha256(candidate.encode()).hexdigest().upper()

    def test_index_depends_on_the_key_and_the_column(self):
        label = "testapp.secretnote.national_id"
        with override_settings(BLIND_INDEX_KEY=base64.b64encode(new_key()).decode()):
            first = crypto.blind_index(NATIONAL_ID, label=label)
            other_column = crypto.blind_index(NATIONAL_ID, label="testapp.secretnote.body")
        with override_settings(BLIND_INDEX_KEY=base64.b64encode(new_key()).decode()):
            second = crypto.blind_index(NATIONAL_ID, label=label)

        assert first != second
        assert first != other_column

    def test_index_follows_the_value_on_the_unsaved_instance_and_on_save(self, ring_v1):
        note = SecretNote(national_id="ID-1")
        assert note.national_id_index == crypto.blind_index(
            "ID-1", label="testapp.secretnote.national_id", normalizer=crypto.normalize_identifier
        )
        note.save()
        note.national_id = "ID-2"
        note.save()
        note.national_id = None
        note.save(update_fields=["national_id", "national_id_index"])

        assert raw_row(note)["national_id_index"] is None
        assert not SecretNote.objects.filter(blind_index_lookup(SecretNote, "national_id", "ID-2"))

    def test_lookup_after_changing_value_finds_only_the_new_value(self, ring_v1):
        note = SecretNote.objects.create(national_id="ID-1")
        note.national_id = "ID-2"
        note.save()

        assert not SecretNote.objects.filter(blind_index_lookup(SecretNote, "national_id", "ID-1"))
        assert SecretNote.objects.get(blind_index_lookup(SecretNote, "national_id", "id2")) == note


@pytest.mark.django_db
class TestWriteGuards:
    def test_queryset_update_with_plaintext_is_refused(self, ring_v1):
        note = SecretNote.objects.create(body="x")

        with pytest.raises(PlaintextWriteError), transaction.atomic():
            SecretNote.objects.filter(pk=note.pk).update(body="written around encryption")
        assert raw_row(note)["body"].startswith("enc1:")

    def test_bulk_update_with_plaintext_is_refused(self, ring_v1):
        note = SecretNote.objects.create(body="x")
        note.body = "changed"

        with pytest.raises(PlaintextWriteError), transaction.atomic():
            SecretNote.objects.bulk_update([note], ["body"])
        assert SecretNote.objects.get(pk=note.pk).body == "x"

    def test_raw_save_cannot_write_plaintext(self, ring_v1):
        note = SecretNote(body="from a fixture")

        with pytest.raises(PlaintextWriteError):
            note.save_base(raw=True)

    def test_comparing_plaintext_with_the_encrypted_column_raises(self, ring_v1):
        with pytest.raises(FieldError):
            SecretNote.objects.filter(national_id=NATIONAL_ID)
        with pytest.raises(FieldError):
            SecretNote.objects.filter(body__icontains="chest")
        assert SecretNote.objects.filter(body__isnull=True).count() == 0

    def test_blind_index_column_accepts_only_digests(self, ring_v1):
        with pytest.raises(ValueError, match="blind_index_lookup"):
            SecretNote.objects.filter(national_id_index=NATIONAL_ID)

    def test_values_list_yields_ciphertext_that_the_field_can_open(self, ring_v1):
        note = SecretNote.objects.create(body=BODY)

        external_id, value = SecretNote.objects.values_list("external_id", "body").get(pk=note.pk)

        assert BODY not in repr(value)
        assert SecretNote._meta.get_field("body").decrypt(value, external_id=external_id) == BODY

    def test_non_text_value_is_refused(self, ring_v1):
        with pytest.raises(TypeError):
            SecretNote.objects.create(body=12345)


class TestCryptoPrimitives:
    def test_round_trip_binds_label_and_external_id(self, settings):
        settings.FIELD_ENCRYPTION_KEYS = {3: new_key()}
        row = uuid.uuid4()
        token = crypto.encrypt_text("秘密", label="a.b.c", external_id=row)

        assert token.startswith("enc1:3:")
        assert crypto.token_key_version(token) == 3
        assert crypto.decrypt_text(token, label="a.b.c", external_id=str(row)) == "秘密"
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(token, label="a.b.d", external_id=row)
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(token, label="a.b.c", external_id=uuid.uuid4())

    def test_missing_external_id_is_an_error(self, settings):
        settings.FIELD_ENCRYPTION_KEYS = {1: new_key()}
        with pytest.raises(crypto.FieldEncryptionError, match="external_id"):
            crypto.encrypt_text("x", label="a.b.c", external_id=None)

    @pytest.mark.parametrize("ring", [{}, {1: b"short"}, "1:not-base64!"])
    def test_bad_key_ring_is_a_configuration_error(self, settings, ring):
        from django.core.exceptions import ImproperlyConfigured

        settings.FIELD_ENCRYPTION_KEYS = ring
        with pytest.raises(ImproperlyConfigured):
            crypto.encrypt_text("x", label="a.b.c", external_id=uuid.uuid4())

    def test_normalisers(self):
        assert crypto.normalize_identifier(" +86 (138) 0013-8000 ") == "8613800138000"
        assert crypto.normalize_identifier("１１０１０１Ｘ") == "110101x"
        assert crypto.normalize_text("  Zhang   SAN ") == "zhang san"


@isolate_apps("tests.testapp")
def test_system_checks_catch_a_misdeclared_model():
    class Broken(BaseModel):
        secret = EncryptedTextField(blind_index="missing_index", unique=True)
        orphan_index = BlindIndexField()

        class Meta:
            app_label = "testapp"

    class NoExternalId(models.Model):
        secret = EncryptedTextField()

        class Meta:
            app_label = "testapp"

        def __str__(self) -> str:
            return str(self.pk)

    broken_ids = {e.id for e in Broken.check()}
    assert {"core.E102", "core.E103", "core.E105"} <= broken_ids
    assert "core.E101" in {e.id for e in NoExternalId.check()}


def test_the_test_model_passes_its_checks():
    assert SecretNote.check() == []
