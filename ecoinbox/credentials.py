"""Where `ecoinbox auth` keeps a token, decided before any flow starts.

The OS keyring comes first. Over SSH there is often none; then the manager chooses, as `gh`
offers: a plain credentials file (``credentials.toml`` in ecoinbox's config directory, 0600 in
a 0700 directory, readable by anyone who can read their files or backups), an encrypted file
through an installed keyring backend that keeps one (keyrings.alt, keyrings.cryptfile), or
nowhere: the token is shown once, for ``pass insert`` and ``token_cmd``.

The credentials file is read back by the token lookup (`ecoinbox.secrets`), after the keyring.
Nothing here imports Textual; no token is ever put in an exception message.
"""

from __future__ import annotations

import enum
import importlib
import json
import os
import stat
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

from ecoinbox.config.storage import APP_NAME

__all__ = [
    "CREDENTIALS_FILE_NAME",
    "CredentialsFileError",
    "Destination",
    "EncryptedBackend",
    "credentials_path",
    "encrypted_backend",
    "read_credential",
    "save_credential",
]

CREDENTIALS_FILE_NAME: Final = "credentials.toml"

# Keyring backends that keep an encrypted file, best first: (module, class, how to select it).
_ENCRYPTED_BACKENDS: Final = (
    ("keyrings.cryptfile.cryptfile", "CryptFileKeyring"),
    ("keyrings.alt.file", "EncryptedKeyring"),
)

_HEADER: Final = """\
# Tokens saved by `ecoinbox auth`, because no OS keyring was usable when they were saved.
# NOT encrypted: anyone who can read this file (you, root, your backups) can use these accounts.
# Keep it 0600. To move a token elsewhere, run `ecoinbox auth CHANNEL` again (--print shows it
# once, for `pass insert`) and delete its line here.
"""


class CredentialsFileError(Exception):
    """The credentials file cannot be used; the message names the file and what to do."""


class Destination(enum.Enum):
    """Where a token obtained by `ecoinbox auth` goes."""

    KEYRING = "keyring"
    FILE = "file"
    ENCRYPTED = "encrypted"
    PRINT = "print"


@dataclass(frozen=True, slots=True)
class EncryptedBackend:
    """An installed keyring backend that keeps an encrypted file (asks its password itself)."""

    name: str
    """Its dotted name, for PYTHON_KEYRING_BACKEND."""
    backend: object


def credentials_path() -> Path:
    """The plain credentials file: ecoinbox's config directory + credentials.toml."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / CREDENTIALS_FILE_NAME


def encrypted_backend() -> EncryptedBackend | None:
    """The first installed and usable encrypted-file keyring backend, or None."""
    for module_name, class_name in _ENCRYPTED_BACKENDS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            if not getattr(cls, "viable", True):  # its own dependencies (e.g. argon2) are missing
                continue
            return EncryptedBackend(f"{module_name}.{class_name}", cls())
        except Exception:  # noqa: BLE001, S112 - not installed, or broken: not offered
            continue
    return None


def read_credential(channel_name: str, path: Path | None = None) -> str | None:
    """The token saved for `channel_name` in the credentials file, or None if there is none.

    Raises CredentialsFileError when the file exists but cannot be trusted or read: readable by
    others (as ssh refuses such a key), not owned by this user, or not valid TOML.
    """
    path = path or credentials_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialsFileError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise CredentialsFileError(f"{path} belongs to another user: its tokens are not used")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise CredentialsFileError(
            f"{path} can be read or changed by other users, so its tokens are not used: "
            f"run `chmod 600 {path}` (and consider the tokens in it seen)"
        )
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        # Never the parser's words: they may quote a line, and so a token.
        raise CredentialsFileError(
            f"{path} is not valid TOML: fix it or delete it, then run `ecoinbox auth`"
        ) from None
    except OSError as exc:
        raise CredentialsFileError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    tokens = document.get("tokens")
    value = tokens.get(channel_name) if isinstance(tokens, dict) else None
    return value.strip() or None if isinstance(value, str) else None


def save_credential(channel_name: str, token: str, path: Path | None = None) -> Path:
    """Write `token` for `channel_name` into the credentials file (0600, directory 0700), keeping
    the other channels' tokens; returns the file. Written to a temporary file then renamed, so a
    crash leaves the old file or the new one. Raises CredentialsFileError or OSError."""
    if not token.strip():
        raise CredentialsFileError("the token is empty; nothing was saved")
    path = path or credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)  # the config directory holds a secret now: only its owner may list it
    tokens: dict[str, str] = {}
    if path.exists():
        document = _read_existing(path)
        tokens = {k: v for k, v in document.get("tokens", {}).items() if isinstance(v, str)}
    tokens[channel_name] = token.strip()
    text = (
        _HEADER
        + "\n[tokens]\n"
        + "".join(f"{_key(name)} = {_string(value)}\n" for name, value in tokens.items())
    )
    if _parsed_tokens(text) != tokens:  # a character TOML cannot hold as written
        raise CredentialsFileError("the token holds characters a TOML file cannot keep; nothing was saved")
    handle, temporary = tempfile.mkstemp(prefix=".credentials-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _parsed_tokens(text: str) -> object:
    try:
        return tomllib.loads(text).get("tokens")
    except tomllib.TOMLDecodeError:
        return None


def _read_existing(path: Path) -> dict[str, dict[str, object]]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        raise CredentialsFileError(
            f"{path} is not valid TOML, so it was left as it is: fix it or move it away"
        ) from None
    tokens = document.get("tokens", {})
    return {"tokens": tokens if isinstance(tokens, dict) else {}}


def _key(name: str) -> str:
    return name if name and all(c.isascii() and (c.isalnum() or c in "-_") for c in name) else _string(name)


def _string(value: str) -> str:
    # JSON's escapes (\" \\ \n \uXXXX) are TOML's too; non-ASCII is kept as it is (TOML is UTF-8).
    return json.dumps(value, ensure_ascii=False)
