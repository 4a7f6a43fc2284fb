"""Key material: the field-encryption key ring and development secrets.

A key ring is written `1:<base64 32 bytes>,2:<base64 32 bytes>`; the highest version encrypts,
every version decrypts. Generate a fresh ring entry with `python -m hospital.core.keyring new`.
This module imports nothing from Django so that settings can use it.
"""

import base64
import json
import os
import secrets
import sys
from pathlib import Path


class KeyRingError(ValueError):
    """The configured key ring cannot be parsed."""


def parse_key_ring(text: str) -> dict[int, bytes]:
    """Parse `version:base64key` pairs separated by commas or newlines into {version: 32-byte key}."""
    ring: dict[int, bytes] = {}
    for raw in text.replace("\n", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        version_text, sep, key_text = item.partition(":")
        if not sep or not version_text.strip().isdigit():
            raise KeyRingError("Each key must be written as <version>:<base64 key>, e.g. 1:AbC...=")
        try:
            key = base64.b64decode(key_text.strip(), validate=True)
        except ValueError as exc:
            raise KeyRingError(f"Key version {version_text} is not valid base64.") from exc
        if len(key) != 32:
            raise KeyRingError(f"Key version {version_text} must be 32 bytes (AES-256), not {len(key)}.")
        ring[int(version_text)] = key
    return ring


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def development_secrets(path: Path) -> dict[str, str]:
    """Secrets for development and tests, generated once into var/ (never committed, never production)."""
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "secret_key": secrets.token_urlsafe(50),
        "field_encryption_keys": f"1:{new_key_text()}",
        "blind_index_key": new_key_text(),
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    try:
        # Another process may have won the race; keep whichever file landed first.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return json.loads(path.read_text())


if __name__ == "__main__":
    if sys.argv[1:] == ["new"]:
        print(new_key_text())
    else:
        print("usage: python -m hospital.core.keyring new   # prints a fresh base64 AES-256 key")
        sys.exit(2)
