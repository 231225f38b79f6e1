"""Identity numbers at rest: encrypted for whoever may read them, a blind index to find them.

The number is stored as AES-256-GCM ciphertext (a fresh 96-bit nonce per value, a version byte in
front so the key can be rotated later) and beside it as an HMAC-SHA256 of the normalised number
under a second key: equal numbers give equal index values, so an exact search is an index lookup
without decrypting anything, and neither column gives the number away without its key. The
masked form is kept in clear for display. The two keys are separate so that the index key, which
every search needs, cannot decrypt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.settings import ProtectionSettings

CIPHERTEXT_VERSION = b"\x01"
NONCE_BYTES = 12
# Binds a ciphertext to what it is: one taken from another kind of protected value cannot be
# passed off as an identity number.
ASSOCIATED_DATA = b"pil:identity-number"


@dataclass(frozen=True)
class IdentityProtection:
    data_key: bytes
    index_key: bytes

    def encrypt(self, number: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return CIPHERTEXT_VERSION + nonce + AESGCM(self.data_key).encrypt(nonce, number.encode(), ASSOCIATED_DATA)

    def decrypt(self, ciphertext: bytes) -> str:
        version, nonce, sealed = ciphertext[:1], ciphertext[1:1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES:]
        if version != CIPHERTEXT_VERSION:
            raise ValueError("unknown identity-number ciphertext version")
        return AESGCM(self.data_key).decrypt(nonce, sealed, ASSOCIATED_DATA).decode()

    def blind_index(self, number: str) -> str:
        return hmac.new(self.index_key, number.encode(), hashlib.sha256).hexdigest()


def protection_for(settings: ProtectionSettings) -> IdentityProtection:
    """The protection under the settings' keys (ProtectionSettings has checked their length)."""
    return _protection(settings.data_key, settings.index_key)


@lru_cache(maxsize=4)
def _protection(data_key: str, index_key: str) -> IdentityProtection:
    return IdentityProtection(data_key=base64.b64decode(data_key), index_key=base64.b64decode(index_key))
