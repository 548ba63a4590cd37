"""Privacy: personal data sealed at rest, pseudonymous keys, access and erasure requests.

See docs/privacy.md for what is stored where, sealed how, and what an erase
removes.
"""

from shopkeeper.privacy._keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    KEY_FILE_NAME,
    KeyProblem,
    PiiKey,
    configured_key,
    encode_secret,
    new_secret,
    parse_key,
    pending_key_file,
    read_key_file,
    write_key_file,
)
from shopkeeper.privacy._requests import Erasure, erase_customer, export_customer, find_traces
from shopkeeper.privacy._vault import (
    KEY_META,
    PSEUDONYM_META,
    SEALED,
    Pseudonymizer,
    Rotation,
    SealError,
    Vault,
    customer_keys,
    is_sealed,
    keyed_column,
    named_column,
    seal,
    sealed_counts,
    unseal,
)

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "KEY_FILE_NAME",
    "KEY_META",
    "PSEUDONYM_META",
    "SEALED",
    "Erasure",
    "KeyProblem",
    "PiiKey",
    "Pseudonymizer",
    "Rotation",
    "SealError",
    "Vault",
    "configured_key",
    "customer_keys",
    "encode_secret",
    "erase_customer",
    "export_customer",
    "find_traces",
    "is_sealed",
    "keyed_column",
    "named_column",
    "new_secret",
    "parse_key",
    "pending_key_file",
    "read_key_file",
    "seal",
    "sealed_counts",
    "unseal",
    "write_key_file",
]
