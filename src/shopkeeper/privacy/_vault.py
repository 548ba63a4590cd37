"""Personal data sealed in the store, and the store's pseudonym secret.

Every value of a personal column (``customers.name``, ``email``, ``phone``,
and the customer's kept unknown columns, ``customers.extra``, where an
address or a birth date sent by a shop lands) is stored as one token::

    skpii1:<key id>:<base64 of a 12-byte nonce, the ciphertext and its 16-byte tag>

sealed by AES-256-GCM with a fresh random nonce. The token's associated data
is its place (``customers.email/C-000187``): a token copied onto another
customer's row, or into another column, fails its tag check instead of
reading as that customer's data. A value stored by a shopkeeper older than
this scheme (no prefix) is read as it is and sealed by ``rotate``.

The pseudonym secret (the key of the keyed hash that names customers in
models and audit records) lives in the store's metadata, sealed by the same
key, so that it moves with the data and is re-sealed on rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from shopkeeper import contract
from shopkeeper.privacy._keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    KeyProblem,
    PiiKey,
    configured_key,
    new_secret,
    pending_key_file,
    read_key_file,
    write_key_file,
)
from shopkeeper.store._schema import EXTRA_COLUMN, METADATA

if TYPE_CHECKING:
    from shopkeeper.store import Store

log = logging.getLogger(__name__)

PREFIX = "skpii1"
KEY_META = "pii_key_id"
PSEUDONYM_META = "pseudonym_secret"
_PSEUDONYM_PLACE = "shopkeeper_meta.pseudonym_secret"
_NONCE = 12

#: Sealed columns per table, and the column that names the row in a token's place.
SEALED: dict[str, tuple[str, ...]] = {
    "customers": (*contract.table("customers").pii_columns, EXTRA_COLUMN),
}
ROW_KEY: dict[str, str] = {"customers": "customer_id"}


class SealError(KeyProblem):
    """A sealed value does not open: another key, or a token altered or moved."""


def seal(key: PiiKey, value: str, place: str) -> str:
    """``value`` as a token only ``key`` opens, and only at ``place``.

    The nonce is synthetic (an HMAC of the place and the value under a key
    derived from ``key``), as in AES-GCM-SIV: the same value at the same
    place seals to the same token, so loading the same file twice changes
    nothing in the store; two different values never share a nonce. The
    only thing this shows is whether one customer's e-mail changed.
    """
    nonce = hmac.new(key.nonce_key, f"{place}\0{value}".encode(), hashlib.sha256).digest()
    nonce = nonce[:_NONCE]
    body = key.aead.encrypt(nonce, value.encode("utf-8"), place.encode("utf-8"))
    return f"{PREFIX}:{key.key_id}:{base64.b64encode(nonce + body).decode('ascii')}"


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def token_key_id(token: str) -> str:
    return token.split(":", 2)[1]


def unseal(key: PiiKey, token: str, place: str) -> str:
    """The value in ``token``; SealError when ``key`` is not its key or the token was altered."""
    try:
        _, key_id, body = token.split(":", 2)
        raw = base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise SealError(f"{place}: the stored value is not a readable sealed token") from exc
    if key_id != key.key_id:
        raise SealError(f"{place}: sealed with key {key_id}, but the key in use is {key.key_id}")
    try:
        return key.aead.decrypt(raw[:_NONCE], raw[_NONCE:], place.encode("utf-8")).decode("utf-8")
    except InvalidTag as exc:
        raise SealError(
            f"{place}: the sealed value fails its integrity check (altered, or moved from "
            "another row)"
        ) from exc


def place_of(table: str, column: str, row_key: object) -> str:
    return f"{table}.{column}/{row_key}"


class Pseudonymizer:
    """Pseudonymous customer keys: a keyed hash (HMAC-SHA-256) of the customer id.

    The same id always gives the same pseudonym in one store; without the
    store's secret a pseudonym cannot be linked back to an id, even by trying
    every plausible id.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, customer_id: object) -> str:
        digest = hmac.new(self._secret, str(customer_id).encode("utf-8"), hashlib.sha256)
        return "p" + digest.hexdigest()[:24]

    def many(self, customer_ids: Iterable[object]) -> list[str]:
        return [self(c) for c in customer_ids]


@dataclass(frozen=True)
class Rotation:
    """What a key rotation did."""

    old_key_id: str | None
    new_key_id: str
    resealed: int  # tokens opened with the old key and sealed with the new one
    sealed_plain: int  # values stored in clear (older versions) now sealed

    def to_dict(self) -> dict[str, object]:
        return {
            "old_key_id": self.old_key_id,
            "new_key_id": self.new_key_id,
            "resealed": self.resealed,
            "sealed_plain": self.sealed_plain,
        }


class Vault:
    """Seals and opens one store's personal data; finds (or first creates) its key."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._key: PiiKey | None = None
        self._pseudonymizer: Pseudonymizer | None = None
        self._lock = threading.Lock()

    # -- the key -------------------------------------------------------------------

    @property
    def key_file(self) -> Path | None:
        return self.store.key_file

    def key(self, *, create: bool = False, conn: Connection | None = None) -> PiiKey | None:
        """The store's key; created (in the default key file) when ``create`` and none exists.

        Raises KeyProblem when the store's data is sealed with a key that
        cannot be found, or the key found is another one.
        """
        with self._lock:
            if self._key is not None:
                return self._key
            stored = self._meta(KEY_META, conn)
            found = configured_key(self.key_file)
            if found is not None and stored is not None and found.key_id != stored:
                found = self._finish_switch(found, stored)
            if found is None:
                if stored is not None:
                    raise KeyProblem(
                        f"the store's personal data is sealed with key {stored} and no key was "
                        f"found: set {KEY_ENV} or {KEY_FILE_ENV}, or restore "
                        f"{self._where_default()}"
                    )
                if not create:
                    return None
                found = self._create_default()
            self._key = found
            return found

    def _where_default(self) -> str:
        return repr(str(self.key_file)) if self.key_file else "the key file"

    def _create_default(self) -> PiiKey:
        if self.key_file is None:
            raise KeyProblem(
                "personal data must be sealed but this store has no key: set "
                f"{KEY_ENV} or {KEY_FILE_ENV} (a store opened by URL has no default key file)"
            )
        try:
            created = write_key_file(self.key_file, new_secret())
        except FileExistsError:
            # Another process created it between our look and our write: use theirs.
            return read_key_file(self.key_file)
        # Info, not a warning: throw-away stores (evaluate --data) make keys too.
        log.info(
            "created the key for personal data at %s: keep a copy with your backups, "
            "without it the personal columns cannot be read",
            self.key_file,
        )
        return created

    def _finish_switch(self, found: PiiKey, stored: str) -> PiiKey:
        """The key of a rotation that committed but crashed before its key file was switched."""
        if found.path is not None:
            pending = pending_key_file(found.path)
            if pending.exists() and read_key_file(pending).key_id == stored:
                os.replace(pending, found.path)
                log.warning("finished an interrupted key rotation: %s is now the key", found.path)
                return read_key_file(found.path)
        raise KeyProblem(
            f"{found.origin} holds key {found.key_id}, but the store's personal data is sealed "
            f"with key {stored}: this is not the store's key"
        )

    def forget_key(self) -> None:
        """Drop the cached key (after a rotation by another process)."""
        with self._lock:
            self._key = None
            self._pseudonymizer = None

    def _meta(self, name: str, conn: Connection | None) -> str | None:
        if conn is None:
            return self.store.meta(name)
        table = METADATA.tables["shopkeeper_meta"]
        found = conn.execute(select(table.c.value).where(table.c.name == name)).scalar()
        return None if found is None else str(found)

    def require_key(self, conn: Connection | None = None) -> PiiKey:
        key = self.key(create=False, conn=conn)
        if key is None:
            raise KeyProblem(
                f"no key for personal data: set {KEY_ENV} or {KEY_FILE_ENV}, or create "
                f"{self._where_default()} (shopkeeper privacy new-key)"
            )
        return key

    # -- writing -----------------------------------------------------------------------

    def seal_frame(self, conn: Connection, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its personal values sealed, for writing on ``conn`` (in its transaction).

        The first sealed write records the key's id in the store's metadata,
        in the same transaction.
        """
        columns = [c for c in SEALED.get(table, ()) if c in frame.columns]
        if not columns or not any(frame[c].notna().any() for c in columns):
            return frame
        key = self.key(create=True, conn=conn)
        assert key is not None
        if self._meta(KEY_META, conn) is None:
            self.store.set_meta(conn, {KEY_META: key.key_id})
        out = frame.copy()
        ids = out[ROW_KEY[table]].astype(str).to_numpy()
        for column in columns:
            values = out[column].to_numpy(dtype=object)
            sealed = [
                None
                if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                # A value that already is a token (a re-load of an export) is kept.
                else v
                if is_sealed(v)
                else seal(key, str(v), place_of(table, column, i))
                for v, i in zip(values, ids, strict=True)
            ]
            out[column] = pd.Series(sealed, index=out.index, dtype=object)
        return out

    # -- reading -------------------------------------------------------------------------

    def open_value(self, table: str, column: str, row_key: object, value: Any) -> Any:
        """One stored value as the shop sent it."""
        if not is_sealed(value):
            return value
        key = self.require_key()
        if token_key_id(value) != key.key_id:
            # Another process may have rotated the key since we cached it.
            self.forget_key()
            key = self.require_key()
        return unseal(key, value, place_of(table, column, row_key))

    def open_row(self, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """A stored row (column -> value) with its sealed values opened."""
        out = dict(row)
        if table not in SEALED:
            return out
        row_key = out.get(ROW_KEY[table])
        for column in SEALED[table]:
            if column in out:
                out[column] = self.open_value(table, column, row_key, out[column])
        return out

    def open_frame(self, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (read from ``table``, with its row key column) with sealed values opened."""
        columns = [c for c in SEALED.get(table, ()) if c in frame.columns]
        if not columns or frame.empty:
            return frame
        out = frame.copy()
        ids = out[ROW_KEY[table]].to_numpy(dtype=object)
        for column in columns:
            values = out[column].to_numpy(dtype=object)
            out[column] = [
                self.open_value(table, column, i, v) for v, i in zip(values, ids, strict=True)
            ]
        return out

    # -- pseudonyms ------------------------------------------------------------------------

    def pseudonymizer(self) -> Pseudonymizer:
        """The store's pseudonymizer; its secret is created (sealed) on first use."""
        if self._pseudonymizer is not None:
            return self._pseudonymizer
        stored = self.store.meta(PSEUDONYM_META)
        if stored is None:
            try:
                stored = self._create_pseudonym_secret()
            except IntegrityError:
                # Another process created it at the same moment: theirs is the one.
                stored = self.store.meta(PSEUDONYM_META)
        if stored is None:
            raise KeyProblem("the store's pseudonym secret could not be created")
        secret_text = unseal(self.require_key(), stored, _PSEUDONYM_PLACE)
        self._pseudonymizer = Pseudonymizer(base64.b64decode(secret_text))
        return self._pseudonymizer

    def _create_pseudonym_secret(self) -> str:
        with self.store.transaction() as conn:
            stored = self._meta(PSEUDONYM_META, conn)
            if stored is None:
                key = self.key(create=True, conn=conn)
                assert key is not None
                secret = base64.b64encode(new_secret()).decode("ascii")
                stored = seal(key, secret, _PSEUDONYM_PLACE)
                entries = {PSEUDONYM_META: stored}
                if self._meta(KEY_META, conn) is None:
                    entries[KEY_META] = key.key_id
                self.store.set_meta(conn, entries)
        return stored

    # -- rotation ----------------------------------------------------------------------------

    def rotate(self, new: PiiKey, actor: str = "cli") -> Rotation:
        """Re-seal every personal value and the pseudonym secret with ``new``, in one transaction.

        Values stored in clear by older versions are sealed too. The same
        transaction writes a ``privacy.rotate-key`` audit record by ``actor``
        (key ids and counts only). The caller
        makes ``new`` findable (key file, variable) before or right after; see
        ``shopkeeper privacy rotate-key`` for the crash-safe order.
        """
        from shopkeeper.audit import record  # the audit module needs the store, built first

        old = self.key(create=False)
        resealed = plain = 0
        with self.store.transaction() as conn:
            for table, columns in SEALED.items():
                sql = METADATA.tables[table]
                row_key = ROW_KEY[table]
                query = select(sql.c[row_key], *(sql.c[c] for c in columns)).where(
                    or_(*(sql.c[c].is_not(None) for c in columns))
                )
                changes = []
                for row in conn.execute(query).mappings():
                    change: dict[str, Any] = {"_k": row[row_key]}
                    for column in columns:
                        value = row[column]
                        if value is None:
                            change[column] = None
                            continue
                        place = place_of(table, column, row[row_key])
                        if is_sealed(value):
                            if old is None:
                                raise KeyProblem(f"{place}: sealed, but no current key was found")
                            value = unseal(old, value, place)
                            resealed += 1
                        else:
                            plain += 1
                        change[column] = seal(new, value, place)
                    changes.append(change)
                if changes:
                    statement = (
                        update(sql)
                        .where(sql.c[row_key] == bindparam("_k"))
                        .values({c: bindparam(c) for c in columns})
                    )
                    conn.execute(statement, changes)
            stored_secret = self._meta(PSEUDONYM_META, conn)
            entries = {KEY_META: new.key_id}
            if stored_secret is not None:
                if old is None:
                    raise KeyProblem("the pseudonym secret is sealed, but no current key was found")
                secret = unseal(old, stored_secret, _PSEUDONYM_PLACE)
                entries[PSEUDONYM_META] = seal(new, secret, _PSEUDONYM_PLACE)
            self.store.set_meta(conn, entries)
            done = Rotation(old.key_id if old else None, new.key_id, resealed, plain)
            record(conn, actor, "privacy.rotate-key", new.key_id, done.to_dict())
        with self._lock:
            self._key = new
        return done


def sealed_counts(store: Store) -> dict[str, int]:
    """How many personal values the store holds sealed, and how many in clear (older versions)."""
    sealed = plain = 0
    with store.engine.connect() as conn:
        for table, columns in SEALED.items():
            sql = METADATA.tables[table]
            for column in columns:
                query = select(sql.c[column]).where(sql.c[column].is_not(None))
                for value in conn.execute(query).scalars():
                    if is_sealed(value):
                        sealed += 1
                    else:
                        plain += 1
    return {"sealed": sealed, "plain": plain}


def customer_keys(store: Store) -> dict[str, str]:
    """Pseudonymous key -> customer id, for every customer the store holds now.

    The way back from a model file, which names customers only by key: a
    customer erased since the model was saved is not in it, so nothing can
    reach their rows of the model.
    """
    name = store.vault.pseudonymizer()
    table = METADATA.tables["customers"]
    with store.engine.connect() as conn:
        ids = [str(v) for v in conn.execute(select(table.c.customer_id)).scalars()]
    return {name(c): c for c in ids}


def keyed_column(
    frame: pd.DataFrame, column: str, rename: Callable[[list[str]], Sequence[str | None]]
) -> pd.DataFrame:
    """A copy of ``frame`` whose customer ``column`` is renamed by ``rename`` (empty
    cells stay empty): to pseudonymous keys for a model file, or back with
    :func:`named_column`."""
    if column not in frame.columns or frame.empty:
        return frame
    values = frame[column]
    known = values.notna() & (values.astype(str) != "")
    out = frame.copy()
    renamed = pd.Series(values.to_numpy(dtype=object), index=frame.index, dtype=object)
    renamed[known] = rename([str(v) for v in values[known]])
    out[column] = renamed
    return out


def named_column(frame: pd.DataFrame, column: str, back: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with pseudonymous keys in ``column`` named as customer ids again; a key
    the store no longer holds (an erased customer) becomes empty."""
    return keyed_column(frame, column, lambda keys: [back.get(k) for k in keys])
