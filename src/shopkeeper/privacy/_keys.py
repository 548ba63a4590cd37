"""The key that encrypts a shop's personal data, and where it comes from.

A key is 32 random bytes (AES-256), written as 44 characters of URL-safe
base64. It is found, in order, in ``SHOPKEEPER_PII_KEY`` (the characters
themselves), in the file named by ``SHOPKEEPER_PII_KEY_FILE``, or in the
store's default key file (``pii.key`` beside the SQLite file, or in the
workspace). The key never goes into the database: a copy of the database
alone (a backup, a stolen disk image) holds the personal columns only as
ciphertext. The store records the key's *id* (a keyed digest that reveals
nothing of the key), so a wrong key is refused with a message instead of
producing garbage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shopkeeper._files import sync_folder
from shopkeeper.errors import ConfigError

KEY_ENV = "SHOPKEEPER_PII_KEY"
KEY_FILE_ENV = "SHOPKEEPER_PII_KEY_FILE"
KEY_FILE_NAME = "pii.key"
KEY_BYTES = 32


class KeyProblem(ConfigError):
    """The key for personal data is missing, malformed, or not the store's key."""


@dataclass(frozen=True)
class PiiKey:
    """One AES-256 key and where it was found (``origin``: a file or a variable)."""

    secret: bytes = field(repr=False)
    origin: str
    path: Path | None = None

    @cached_property
    def key_id(self) -> str:
        """16 hex characters naming the key; computing the key back from it is infeasible."""
        return hmac.new(self.secret, b"shopkeeper pii key id", hashlib.sha256).hexdigest()[:16]

    @cached_property
    def nonce_key(self) -> bytes:
        """A key of its own for synthetic nonces (see ``seal``)."""
        return hmac.new(self.secret, b"shopkeeper pii nonce", hashlib.sha256).digest()

    @cached_property
    def aead(self) -> AESGCM:
        return AESGCM(self.secret)


def new_secret() -> bytes:
    """A fresh random key."""
    return os.urandom(KEY_BYTES)


def encode_secret(secret: bytes) -> str:
    """The key as the text a key file or ``SHOPKEEPER_PII_KEY`` holds."""
    return base64.urlsafe_b64encode(secret).decode("ascii")


def parse_key(text: str, origin: str, path: Path | None = None) -> PiiKey:
    """The key in ``text`` (44 base64 characters); KeyProblem naming ``origin`` otherwise."""
    cleaned = text.strip()
    try:
        secret = base64.urlsafe_b64decode(cleaned.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        secret = b""
    if len(secret) != KEY_BYTES:
        raise KeyProblem(
            f"{origin}: not a shopkeeper key: expected {KEY_BYTES} bytes as 44 characters of "
            f"URL-safe base64 (as `shopkeeper privacy new-key` writes), got {len(cleaned)} "
            "characters"
        )
    return PiiKey(secret, origin, path)


def read_key_file(path: Path) -> PiiKey:
    """The key in the file at ``path``."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise KeyProblem(f"key file {str(path)!r} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyProblem(f"key file {str(path)!r} cannot be read: {exc}") from exc
    return parse_key(text, f"key file {str(path)!r}", path)


def write_key_file(path: Path, secret: bytes, *, replace: bool = False) -> PiiKey:
    """Write ``secret`` to ``path`` readable by its owner only, durably, and return the key.

    Without ``replace`` an existing file is never overwritten (two processes
    creating a store's first key at once must not end up with two keys). With
    it the file is replaced atomically, so a crash leaves the old key or the
    new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (encode_secret(secret) + "\n").encode("ascii")
    target = path.with_name(path.name + ".tmp") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(target, flags, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if replace:
        os.replace(target, path)
    sync_folder(path.parent)
    return PiiKey(secret, f"key file {str(path)!r}", path)


def pending_key_file(path: Path) -> Path:
    """Where a rotation keeps the new key until the store has switched to it."""
    return path.with_name(path.name + ".next")


def configured_key(default_file: Path | None) -> PiiKey | None:
    """The key the environment or the default file gives, or None when there is none.

    ``SHOPKEEPER_PII_KEY`` wins over ``SHOPKEEPER_PII_KEY_FILE``, which wins
    over ``default_file``. A variable that is set but unusable is an error,
    never a silent fall-through to the next place.
    """
    text = os.environ.get(KEY_ENV)
    if text:
        return parse_key(text, f"${KEY_ENV}")
    named = os.environ.get(KEY_FILE_ENV)
    if named:
        return read_key_file(Path(named).expanduser())
    if default_file is not None and default_file.exists():
        return read_key_file(default_file)
    return None
