_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def _tid(micros: int, clock_id: int) -> str:
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def _cid(seed: str) -> str:
    """A CIDv1-looking string (dag-cbor, sha-256) that depends on `seed`."""
    digest = base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode().lower().rstrip("=")
    return "bafyrei" + digest[:52]


def _jwt(did: str, scope: str, issued: datetime, expires: datetime) -> str:
    """A JWT shaped as the PDS's: `scope` is the claim ("com.atproto.appPass", ".access", ".refresh")."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json_text(data).encode()).decode().rstrip("=")

    claims = {"scope": scope, "sub": did, "iat": int(issued.timestamp()), "exp": int(expires.timestamp()),
              "jti": secrets.token_hex(8)}  # fmt: skip
    return f"{part({'typ': 'at+jwt', 'alg': 'HS256'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


def _pack_cursor(at: datetime, cid: str) -> str:
    return f"{int(at.timestamp() * 1000)}::{cid}"


def _unpack_cursor(cursor: str) -> tuple[datetime, str]:
    millis, sep, cid = cursor.partition("::")
    try:
        if not sep:
            raise ValueError
        return datetime.fromtimestamp(int(millis) / 1000, UTC), cid
    except ValueError:
        raise XrpcError(400, "InvalidRequest", "Malformed cursor") from None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
