"""Tokens are refused in the config file, at any depth: each key that would hold one is named, with
where the token goes instead (the keyring, a command or an environment variable)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from ecoinbox.channels.settings import CHANNEL_NAME_RE
from ecoinbox.config.errors import KeyPath

__all__ = ["find_secret_keys", "token_refusal", "without"]

_ENV_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY_RE: Final = re.compile(r"[A-Za-z0-9_-]+")

# Keys that would hold a credential, at any level of the file. `token_cmd` and `token_env`
# name *where* the token is, so they are fine; anything that *is* a token is refused.
_SECRET_KEY_NAMES: Final = frozenset(
    {
        "token",
        "access_token",
        "api_key",
        "apikey",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "app_password",
    }
)
_SECRET_KEY_SUFFIXES: Final = ("_token", "_password", "_passwd", "_secret", "_api_key", "_apikey")


def _is_secret_key(key: str) -> bool:
    name = key.strip().lower().replace("-", "_")
    return name in _SECRET_KEY_NAMES or name.endswith(_SECRET_KEY_SUFFIXES)


def find_secret_keys(document: dict[str, Any]) -> Iterator[KeyPath]:
    """Every key, at any depth (tables, lists of tables, inline tables), that looks like a secret."""
    stack: list[tuple[KeyPath, object]] = [((), document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if _is_secret_key(key):
                    yield (*path, key)
                else:
                    stack.append(((*path, key), value))
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in enumerate(node))


def without(document: dict[str, Any], paths: list[KeyPath]) -> dict[str, Any]:
    """A copy of `document` without the keys at `paths` (containers copied only along them)."""
    root: dict[str, Any] = dict(document)
    for path in paths:
        node: Any = root
        for part in path[:-1]:
            child = node[part]
            child = dict(child) if isinstance(child, dict) else list(child)
            node[part] = child
            node = child
        del node[path[-1]]
    return root


def token_refusal(document: dict[str, Any], path: KeyPath) -> str:
    name = "NAME"
    if len(path) >= 2 and path[0] == "channels" and isinstance(path[1], int):
        entries = document.get("channels")
        entry = entries[path[1]] if isinstance(entries, list) else None
        candidate = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(candidate, str) and CHANNEL_NAME_RE.fullmatch(candidate):
            name = candidate
    env = "ECOINBOX_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_TOKEN"
    return (
        "tokens do not belong in the config file (it is often readable by others and copied "
        f"around). Store it with `ecoinbox auth {name}`, or set "
        f'token_cmd = ["pass", "show", "ecoinbox/{name}"] or token_env = "{env}"'
    )
