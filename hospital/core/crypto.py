"""Field-level encryption primitives: AES-256-GCM tokens under a versioned key ring, and keyed blind indexes.

Token format (text, safe in any text column, JSON or log line)::

    enc1:<key version>:<base64url(nonce[12] + ciphertext + tag[16]), unpadded>

`enc1` names this format; the key version says which key of ``settings.FIELD_ENCRYPTION_KEYS`` sealed
it. The newest (highest) version encrypts, every configured version decrypts, so adding a key never
breaks existing rows and `manage.py rotate_field_keys` moves them forward at leisure.

Associated data binds a token to where it lives: the format, the key version, a *label* naming the
column (``app_label.model.field``) and the row's ``external_id``. A token copied to another row or
another column therefore fails authentication exactly like a tampered one. Every failure raises
`DecryptionError`; nothing here ever returns garbage or None for a token it could not open.

A blind index is HMAC-SHA256 over a normalised value, under a key derived (HKDF) from
``settings.BLIND_INDEX_KEY`` separately for each label, so equal values in two different columns do
not share an index and an index cannot be recomputed without the key.

Keys are read from settings at every call (no module-level cache of settings), so
``override_settings`` and key changes in a running process take effect immediately.
"""

import base64
import binascii
import hashlib
import hmac
import os
import unicodedata
import uuid
from collections.abc import Callable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from hospital.core.keyring import KeyRingError, parse_key_ring

TOKEN_FORMAT = "enc1"  # noqa: S105 - a format tag, not a secret
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
BLIND_INDEX_LENGTH = 64  # hex of a SHA-256 HMAC

Normalizer = Callable[[str], str]


class FieldEncryptionError(Exception):
    """Base class of every field-encryption failure."""


class DecryptionError(FieldEncryptionError):
    """A token could not be opened: malformed, tampered, moved to another row/column, or its key is gone."""


class UnknownKeyVersionError(DecryptionError):
    """The token names a key version that FIELD_ENCRYPTION_KEYS no longer (or never) held."""


# --- keys ------------------------------------------------------------------------------------------


def key_ring() -> dict[int, bytes]:
    """The configured key ring {version: 32-byte key}, read from settings now.

    Accepts the parsed dict that settings builds, or the `1:<base64>,2:<base64>` text form.
    """
    raw = getattr(settings, "FIELD_ENCRYPTION_KEYS", None)
    try:
        ring = parse_key_ring(raw) if isinstance(raw, str) else dict(raw or {})
    except KeyRingError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: {exc}") from exc
    if not ring:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty; set it (or FIELD_ENCRYPTION_KEY_FILE) before encrypted fields are used."
        )
    for version, key in ring.items():
        if not isinstance(version, int) or version < 1:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key version {version!r} must be a positive integer.")
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key version {version} must be {KEY_BYTES} bytes.")
    return ring


def current_key_version() -> int:
    """The version that encrypts: the highest one in the key ring."""
    return max(key_ring())


@lru_cache(maxsize=32)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def _blind_index_root_key() -> bytes:
    raw = getattr(settings, "BLIND_INDEX_KEY", "")
    if isinstance(raw, bytes):
        key = raw
    else:
        try:
            key = base64.b64decode((raw or "").strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured("BLIND_INDEX_KEY must be base64.") from exc
    if len(key) < KEY_BYTES:
        raise ImproperlyConfigured(f"BLIND_INDEX_KEY must decode to at least {KEY_BYTES} bytes.")
    return key


@lru_cache(maxsize=256)
def _blind_index_key(root: bytes, label: str) -> bytes:
    # Cached on the root key itself, so a changed BLIND_INDEX_KEY is never served a stale derivation.
    info = b"hospital.blind-index.v1:" + label.encode()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(root)


# --- tokens ----------------------------------------------------------------------------------------


def _external_id_bytes(external_id: uuid.UUID | str | None) -> bytes:
    if external_id is None or external_id == "":
        raise FieldEncryptionError("An encrypted value needs the row's external_id, and it is not set.")
    return (external_id if isinstance(external_id, uuid.UUID) else uuid.UUID(str(external_id))).bytes


def _associated_data(*, version: int, label: str, external_id: uuid.UUID | str | None) -> bytes:
    if not label or "\x00" in label:
        raise FieldEncryptionError("An encryption label must be a non-empty string without NUL characters.")
    # NUL-separated text then the fixed 16 UUID bytes: unambiguous without length prefixes.
    return f"{TOKEN_FORMAT}\x00{version}\x00{label}\x00".encode() + _external_id_bytes(external_id)


def encrypt_text(plaintext: str, *, label: str, external_id: uuid.UUID | str) -> str:
    """Seal `plaintext` under the newest key for the column `label` of the row `external_id`; returns a token."""
    if not isinstance(plaintext, str):
        raise TypeError(f"Only text can be encrypted, not {type(plaintext).__name__}.")
    version = current_key_version()
    key = key_ring()[version]
    nonce = os.urandom(NONCE_BYTES)
    aad = _associated_data(version=version, label=label, external_id=external_id)
    sealed = _aead(key).encrypt(nonce, plaintext.encode("utf-8"), aad)
    body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
    return f"{TOKEN_FORMAT}:{version}:{body}"


def _parse_token(token: str) -> tuple[int, bytes]:
    if not isinstance(token, str):
        raise DecryptionError(f"An encrypted token must be text, not {type(token).__name__}.")
    fmt, sep1, rest = token.partition(":")
    version_text, sep2, body = rest.partition(":")
    if fmt != TOKEN_FORMAT or not sep1 or not sep2 or not version_text.isdigit():
        raise DecryptionError(f"Not an {TOKEN_FORMAT} token (malformed or not encrypted).")
    try:
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("Encrypted token body is not valid base64.") from exc
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("Encrypted token is truncated.")
    return int(version_text), blob


def token_key_version(token: str) -> int:
    """The key version a token was sealed under (raises DecryptionError for a malformed token)."""
    return _parse_token(token)[0]


def token_prefix(version: int) -> str:
    """The text every token sealed under `version` starts with (for finding stale rows in SQL)."""
    return f"{TOKEN_FORMAT}:{version}:"


def decrypt_text(token: str, *, label: str, external_id: uuid.UUID | str) -> str:
    """Open a token sealed for the column `label` of the row `external_id`.

    Raises UnknownKeyVersionError when its key is not configured and DecryptionError when it was
    tampered with, truncated, or belongs to another row or column.
    """
    version, blob = _parse_token(token)
    key = key_ring().get(version)
    if key is None:
        raise UnknownKeyVersionError(
            f"Encrypted value of {label} uses key version {version}, which FIELD_ENCRYPTION_KEYS does not hold."
        )
    aad = _associated_data(version=version, label=label, external_id=external_id)
    try:
        plaintext = _aead(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise DecryptionError(
            f"Encrypted value of {label} failed authentication: it was altered, or it belongs to another row or column."
        ) from exc
    return plaintext.decode("utf-8")


# --- blind index -----------------------------------------------------------------------------------


def normalize_text(value: str) -> str:
    """Default blind-index normaliser: Unicode NFKC, case-folded, whitespace trimmed and collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def normalize_identifier(value: str) -> str:
    """Normaliser for identifiers (national ID, phone, insurance number): letters and digits only, case-folded.

    NFKC first, so full-width digits typed with a Chinese input method match ASCII ones; spaces,
    dashes, dots, slashes, brackets and a leading '+' are dropped.
    """
    return "".join(ch for ch in unicodedata.normalize("NFKC", value).casefold() if ch.isalnum())


def blind_index(value: str | None, *, label: str, normalizer: Normalizer = normalize_text) -> str | None:
    """Keyed HMAC-SHA256 (hex) of `normalizer(value)` for the column `label`; None for None or a blank value.

    Equal after normalisation -> equal index; without BLIND_INDEX_KEY the index cannot be recomputed
    or confirmed by hashing guesses.
    """
    if value is None:
        return None
    normalized = normalizer(value)
    if not normalized:
        return None
    key = _blind_index_key(_blind_index_root_key(), label)
    return hmac.new(key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()
