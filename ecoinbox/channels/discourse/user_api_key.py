"""Discourse User API Keys, for `ecoinbox auth` (no redirect: the forum shows an encrypted payload
the manager pastes back): the key pair, the authorization URL and the payload's decryption."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from typing import Any
from urllib.parse import unquote, urlencode

from ecoinbox.channels.base import (
    AuthError,
)
from ecoinbox.channels.http import (
    register_secret,
)

APP_NAME = "ecoinbox"
USER_API_SCOPES = "read,write,notifications,session_info"
KEY_BITS = 2048


def generate_key_pair() -> tuple[bytes, str]:
    """A fresh RSA key pair: (private key PEM, kept in memory; public key PEM, sent)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem.decode("ascii")


def new_nonce() -> str:
    """A random nonce for `user_api_key_url`; `decrypt_payload` checks it comes back."""
    return secrets.token_urlsafe(24)


def user_api_key_url(
    base_url: str,
    public_key_pem: str,
    nonce: str,
    client_id: str,
    application_name: str = APP_NAME,
    scopes: str = USER_API_SCOPES,
) -> str:
    """The page where the brand account approves ecoinbox. There is no `auth_redirect`: the
    forum then shows the encrypted payload for the user to copy into the terminal."""
    query = urlencode(
        {
            "application_name": application_name,
            "client_id": client_id,
            "scopes": scopes,
            "public_key": public_key_pem,
            "nonce": nonce,
        }
    )
    return f"{base_url.rstrip('/')}/user-api-key/new?{query}"


_BAD_PASTE = (
    "the pasted text is not the payload this request asked for: open the authorization page "
    "again and copy the whole payload it shows"
)


def decrypt_payload(private_key_pem: bytes, payload_b64: str, expected_nonce: str) -> str:
    """The user API key inside the payload the forum showed, after checking its nonce.

    The payload is base64 (with line breaks, as Ruby writes it) of the RSA-encrypted JSON
    `{key, nonce, push, api}`, padded PKCS#1 v1.5 (OAEP, which newer forums can use, is
    accepted too). A bad paste raises AuthError saying what to do; the key is never in it.
    """
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    compact = "".join(payload_b64.split())
    if "%" in compact:  # copied out of a URL
        compact = unquote(compact)
    try:
        encrypted = base64.b64decode(compact, validate=True)
        private_key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (binascii.Error, ValueError, TypeError):
        raise AuthError(_BAD_PASTE) from None
    if not encrypted or not isinstance(private_key, rsa.RSAPrivateKey):
        raise AuthError(_BAD_PASTE)
    schemes: tuple[padding.AsymmetricPadding, ...] = (
        padding.PKCS1v15(),
        padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
    )
    data: dict[str, Any] | None = None
    for scheme in schemes:
        try:
            data = _payload_json(private_key.decrypt(encrypted, scheme))
        except ValueError:
            data = None
        if data is not None:
            break
    if data is None:
        raise AuthError(
            "the pasted payload cannot be decrypted with this request's key: it is incomplete, "
            "or it answers another request. Open the authorization page again and paste the "
            "whole payload it shows"
        )
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), expected_nonce.encode()):
        raise AuthError(
            "the pasted payload answers another authorization request (its nonce does not "
            "match): open the page this command printed and paste the payload it shows"
        )
    key = data.get("key")
    if not isinstance(key, str) or not key.strip():
        raise AuthError("the forum's payload holds no key: approve the request again")
    register_secret(key)
    return key


def _payload_json(plain: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


__all__ = [
    "APP_NAME",
    "KEY_BITS",
    "USER_API_SCOPES",
    "decrypt_payload",
    "generate_key_pair",
    "new_nonce",
    "user_api_key_url",
]
