"""Recordings at rest: AES-256-GCM encrypted files under SCRIBE_AUDIO_DIR, opened only in memory.

File format (version 1), all integers big-endian::

    magic      6 bytes   b"HSCRA1"  (hospital scribe recording, format 1)
    key        4 bytes   version of the FIELD_ENCRYPTION_KEYS key that sealed it
    nonce     12 bytes   random
    sealed     rest      AES-256-GCM ciphertext of the recording followed by its 16-byte tag

Associated data = magic + key version + b"ai.scribe.audio" + NUL + the job's external_id (16 bytes), so a
file renamed to another job, a changed header or a flipped bit all fail authentication (`AudioDecryptionError`).
Keys come from the project's key ring (hospital.core.crypto): the newest version encrypts, every configured
version decrypts. A file is written to a temporary name in the same directory, flushed to disk and renamed,
so a reader never sees half a recording. Plain audio never touches the disk.
"""

import os
import struct
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ai.scribe import conf
from hospital.core.crypto import current_key_version, key_ring

MAGIC = b"HSCRA1"
NONCE_BYTES = 12
TAG_BYTES = 16
_VERSION = struct.Struct(">I")
HEADER_BYTES = len(MAGIC) + _VERSION.size + NONCE_BYTES
LABEL = b"ai.scribe.audio"
SUFFIX = ".scra"


class AudioStorageError(Exception):
    """The encrypted recording cannot be read: missing, malformed, tampered with, or its key is gone."""


class AudioDecryptionError(AudioStorageError):
    """The file failed authentication or names a key the key ring does not hold."""


def _uuid(external_id: uuid.UUID | str) -> uuid.UUID:
    return external_id if isinstance(external_id, uuid.UUID) else uuid.UUID(str(external_id))


def _associated_data(version: int, external_id: uuid.UUID | str) -> bytes:
    return MAGIC + _VERSION.pack(version) + LABEL + b"\x00" + _uuid(external_id).bytes


def encrypt_audio(data: bytes, *, external_id: uuid.UUID | str) -> bytes:
    """The sealed file content of `data` for the job `external_id`, under the newest key."""
    version = current_key_version()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key_ring()[version]).encrypt(nonce, bytes(data), _associated_data(version, external_id))
    return MAGIC + _VERSION.pack(version) + nonce + sealed


def decrypt_audio(blob: bytes, *, external_id: uuid.UUID | str) -> bytes:
    """The recording sealed in `blob` for the job `external_id`; AudioDecryptionError if it does not open."""
    if len(blob) < HEADER_BYTES + TAG_BYTES or not blob.startswith(MAGIC):
        raise AudioDecryptionError("Not an encrypted scribe recording (wrong header or truncated).")
    (version,) = _VERSION.unpack_from(blob, len(MAGIC))
    key = key_ring().get(version)
    if key is None:
        raise AudioDecryptionError(f"The recording was sealed with key version {version}, which is not configured.")
    nonce = blob[len(MAGIC) + _VERSION.size : HEADER_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[HEADER_BYTES:], _associated_data(version, external_id))
    except InvalidTag as exc:
        raise AudioDecryptionError(
            "The recording failed authentication: it was altered, or it belongs to another job."
        ) from exc


def audio_file_name(external_id: uuid.UUID | str) -> str:
    """The file name (relative to SCRIBE_AUDIO_DIR) of a job's recording."""
    return f"{_uuid(external_id)}{SUFFIX}"


def audio_path(name: str) -> Path:
    """The absolute path of a stored recording; refuses names that would leave SCRIBE_AUDIO_DIR."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise AudioStorageError(f"Not a recording file name: {name!r}.")
    return conf.audio_dir() / name


def audio_write(data: bytes, *, external_id: uuid.UUID | str) -> str:
    """Encrypt `data` for the job and store it atomically; returns the file name to keep on the job."""
    name = audio_file_name(external_id)
    directory = conf.audio_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    sealed = encrypt_audio(data, external_id=external_id)
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, directory / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return name


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def audio_read(name: str, *, external_id: uuid.UUID | str) -> bytes:
    """The decrypted recording, in memory. AudioStorageError if the file is gone, AudioDecryptionError if it
    does not open."""
    path = audio_path(name)
    try:
        blob = path.read_bytes()
    except FileNotFoundError as exc:
        raise AudioStorageError("The recording file is missing.") from exc
    return decrypt_audio(blob, external_id=external_id)


def audio_delete(name: str) -> bool:
    """Remove a stored recording; True if a file was removed, False if it was already gone."""
    try:
        audio_path(name).unlink()
    except FileNotFoundError:
        return False
    return True


def audio_orphans(*, known: set[str], older_than_seconds: float) -> list[Path]:
    """Stored files (and abandoned temporary files) that no job names, last written longer ago than
    `older_than_seconds`: left by an upload whose transaction rolled back, or by a crash mid-write."""
    directory = conf.audio_dir()
    if not directory.is_dir():
        return []
    cutoff = time.time() - older_than_seconds
    found = []
    for path in directory.iterdir():
        if not path.is_file() or not path.name.endswith(SUFFIX) or path.name in known:
            continue
        try:
            if path.stat().st_mtime < cutoff:
                found.append(path)
        except FileNotFoundError:
            continue
    return found
