"""A software passkey authenticator for the tests: it answers the shop's WebAuthn options
as a phone would (a P-256 key pair per credential, "none" attestation, the user present
and verified), built with `cryptography` and `cbor2` as py_webauthn's own tests build
theirs. The browser test drives Chromium's virtual authenticator instead."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return bytes_to_base64url(data)


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """Holds its passkeys; `counting` makes it count signatures (most synced passkeys
    report 0 and do not)."""

    counting: bool = False
    credentials: list[Credential] = field(default_factory=list)

    def _auth_data(self, rp_id: str, flags: int, count: int, attested: bytes = b"") -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + count.to_bytes(4, "big") \
            + attested

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict, origin: str, credential_id: bytes | None = None) -> str:
        """navigator.credentials.create(): a new passkey for the options' RP and user;
        the registration response as the browser's JSON. `credential_id` forges one
        whose id is another's."""
        rp_id = options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})
        credential = Credential(credential_id or os.urandom(16), key, rp_id,
                                base64url_to_bytes(options["user"]["id"]))
        self.credentials.append(credential)
        attested = bytes(16) + len(credential.id).to_bytes(2, "big") + credential.id + cose
        auth_data = self._auth_data(rp_id, UP | UV | AT, 0, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
            "response": {"clientDataJSON": b64(self._client_data(
                "webauthn.create", options["challenge"], origin)),
                "attestationObject": b64(attestation), "transports": ["internal"]},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"})

    def get(self, options: dict, origin: str, credential: Credential | None = None,
            user_handle: bytes | None = None, flags: int = UP | UV, count: int | None = None) -> str:
        """navigator.credentials.get(): an assertion by `credential` (the first one held
        by default) over the options' challenge; the browser's JSON. `user_handle`,
        `flags` and `count` forge what a real authenticator would not send."""
        credential = credential or self.credentials[0]
        if count is None:
            if self.counting:
                credential.sign_count += 1
            count = credential.sign_count
        auth_data = self._auth_data(options.get("rpId", credential.rp_id), flags, count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                        ec.ECDSA(hashes.SHA256()))
        handle = credential.user_handle if user_handle is None else user_handle
        return json.dumps({
            "id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
            "response": {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                         "signature": b64(signature), "userHandle": b64(handle)},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"})
