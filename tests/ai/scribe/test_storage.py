"""Recordings at rest: encrypted with the key ring, bound to their job, written atomically, purged on time."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ai.scribe import storage
from hospital.core.crypto import key_ring

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8


@pytest.fixture(autouse=True)
def audio_dir(settings, tmp_path):
    settings.SCRIBE_AUDIO_DIR = str(tmp_path / "audio")
    return tmp_path / "audio"


def test_the_file_on_disk_is_not_the_recording_and_opens_for_its_job(audio_dir):
    job = uuid.uuid4()
    name = storage.audio_write(WAV, external_id=job)
    on_disk = (audio_dir / name).read_bytes()
    assert on_disk.startswith(storage.MAGIC)
    assert b"RIFF" not in on_disk and b"WAVE" not in on_disk
    assert len(on_disk) == len(WAV) + storage.HEADER_BYTES + storage.TAG_BYTES
    assert storage.audio_read(name, external_id=job) == WAV
    assert (audio_dir / name).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in audio_dir.iterdir()] == [name]  # no temporary file left behind


def test_a_tampered_file_fails_to_decrypt(audio_dir):
    job = uuid.uuid4()
    name = storage.audio_write(WAV, external_id=job)
    path = audio_dir / name
    blob = bytearray(path.read_bytes())
    blob[storage.HEADER_BYTES + 40] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(storage.AudioDecryptionError, match="failed authentication"):
        storage.audio_read(name, external_id=job)


def test_a_file_moved_to_another_job_or_with_a_changed_header_fails():
    job, other = uuid.uuid4(), uuid.uuid4()
    blob = storage.encrypt_audio(WAV, external_id=job)
    with pytest.raises(storage.AudioDecryptionError):
        storage.decrypt_audio(blob, external_id=other)
    with pytest.raises(storage.AudioDecryptionError):
        storage.decrypt_audio(b"XXXXXX" + blob[6:], external_id=job)
    with pytest.raises(storage.AudioDecryptionError):
        storage.decrypt_audio(blob[:20], external_id=job)


def test_old_keys_still_decrypt_and_the_newest_encrypts(settings):
    old_ring = dict(key_ring())
    job = uuid.uuid4()
    old_blob = storage.encrypt_audio(WAV, external_id=job)
    newest = max(old_ring) + 1
    settings.FIELD_ENCRYPTION_KEYS = {**old_ring, newest: b"k" * 32}
    assert storage.decrypt_audio(old_blob, external_id=job) == WAV
    new_blob = storage.encrypt_audio(WAV, external_id=job)
    assert int.from_bytes(new_blob[6:10], "big") == newest
    settings.FIELD_ENCRYPTION_KEYS = old_ring
    with pytest.raises(storage.AudioDecryptionError, match="not configured"):
        storage.decrypt_audio(new_blob, external_id=job)


def test_a_missing_file_and_a_bad_name_are_refused():
    with pytest.raises(storage.AudioStorageError, match="missing"):
        storage.audio_read(storage.audio_file_name(uuid.uuid4()), external_id=uuid.uuid4())
    with pytest.raises(storage.AudioStorageError):
        storage.audio_path("../etc/passwd")


def test_orphans_are_files_no_job_names_and_old_enough(audio_dir):
    kept = storage.audio_write(WAV, external_id=uuid.uuid4())
    orphan = storage.audio_write(WAV, external_id=uuid.uuid4())
    assert storage.audio_orphans(known={kept}, older_than_seconds=3600) == []
    import os

    old = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(audio_dir / orphan, (old, old))
    os.utime(audio_dir / kept, (old, old))
    assert [p.name for p in storage.audio_orphans(known={kept}, older_than_seconds=3600)] == [orphan]
