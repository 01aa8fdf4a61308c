"""AT Protocol's identifiers and formats as the PDS writes them: TIDs, CIDs, JWTs, cursors, datetimes."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ecoinbox.demo.loopback import json_text

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


TID_PATTERN = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def make_tid(micros: int, clock_id: int) -> str:
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def make_cid(seed: str) -> str:
    """A CIDv1-looking string (dag-cbor, sha-256) that depends on `seed`."""
    digest = base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode().lower().rstrip("=")
    return "bafyrei" + digest[:52]


def make_jwt(did: str, scope: str, issued: datetime, expires: datetime) -> str:
    """A JWT shaped as the PDS's: `scope` is the claim ("com.atproto.appPass", ".access", ".refresh")."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json_text(data).encode()).decode().rstrip("=")

    claims = {"scope": scope, "sub": did, "iat": int(issued.timestamp()), "exp": int(expires.timestamp()),
              "jti": secrets.token_hex(8)}  # fmt: skip
    return f"{part({'typ': 'at+jwt', 'alg': 'HS256'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


def pack_cursor(at: datetime, cid: str) -> str:
    return f"{int(at.timestamp() * 1000)}::{cid}"


def unpack_cursor(cursor: str) -> tuple[datetime, str]:
    millis, sep, cid = cursor.partition("::")
    try:
        if not sep:
            raise ValueError
        return datetime.fromtimestamp(int(millis) / 1000, UTC), cid
    except ValueError:
        raise XrpcError(400, "InvalidRequest", "Malformed cursor") from None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class XrpcError(Exception):
    """An error answer in the XRPC shape, with its HTTP status."""

    def __init__(
        self, status: int, error: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": error, "message": message}
        self.headers = dict(headers or {})
