"""Logging to a private file, with tokens masked: the terminal belongs to the TUI."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

LOGGERS = ("ecoinbox", "httpx", "httpcore")
"""The loggers whose records go to the log file."""


def default_log_path() -> Path:
    return platformdirs.user_log_path("ecoinbox", appauthor=False) / "ecoinbox.log"


class _Redacting(logging.Filter):
    """ecoinbox.channels.http's RedactingFilter, imported with it (and httpx, 60 ms) at the first
    record the file gets: `ecoinbox list` and `show` usually log nothing and start without them."""

    def __init__(self) -> None:
        super().__init__()
        self._filter: logging.Filter | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self._filter is None:
            from ecoinbox.channels.http import RedactingFilter

            self._filter = RedactingFilter()
        return bool(self._filter.filter(record))


class _QuietFileHandler(logging.FileHandler):
    """A log file that fails silently: on a full disk, logging's default would print a traceback
    on the terminal the inbox draws on, for a file that is only a convenience."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def setup_logging(path: Path | None = None) -> Path | None:
    """Send ecoinbox's warnings (or ECOINBOX_LOG_LEVEL) to a 0600 file; None if it cannot."""
    for name in ("httpx", "httpcore"):  # quiet (WARNING), as install_log_redaction makes them
        if logging.getLogger(name).level < logging.WARNING:
            logging.getLogger(name).setLevel(logging.WARNING)
    path = path or Path(os.environ.get("ECOINBOX_LOG_FILE") or default_log_path())
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # a file left by an older run may be readable by others
        finally:
            os.close(descriptor)
        handler: logging.Handler = _QuietFileHandler(path, encoding="utf-8")
    except OSError:
        return None  # a read-only home must not stop the inbox; logs are a convenience
    # On the handler, the filter sees every record it writes, from child loggers too
    # ("httpcore.http11"), which a filter on the "httpcore" logger never does.
    handler.addFilter(_Redacting())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.ecoinbox_file = True  # type: ignore[attr-defined]
    stop_logging()  # calling twice (tests, the demo) must not log twice
    # httpx and httpcore (quiet: WARNING) write here too, not to stderr under the TUI.
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    level = os.environ.get("ECOINBOX_LOG_LEVEL", "WARNING").upper()
    logging.getLogger("ecoinbox").setLevel(level if level in logging.getLevelNamesMapping() else "WARNING")
    return path


def stop_logging() -> None:
    """Close the log file `setup_logging` opened, if any."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if getattr(h, "ecoinbox_file", False)]:
            logger.removeHandler(handler)
            handler.close()


def log_file() -> Path | None:
    """The file ecoinbox logs to now (None before `setup_logging`, or if it could not open one)."""
    for handler in logging.getLogger("ecoinbox").handlers:
        if getattr(handler, "ecoinbox_file", False):
            return Path(handler.baseFilename)  # type: ignore[attr-defined]
    return None


def log_unexpected(error: BaseException) -> Path | None:
    """Write `error` with its traceback (tokens masked) to the log file; where it went, or None.

    The terminal gets one paragraph from the caller: a traceback there helps nobody, may quote
    platform text, and disappears with the screen.
    """
    path = log_file()
    if path is None or not path.exists():  # e.g. the demo's temporary folder, already removed
        path = setup_logging()
    if path is None:
        return None
    logging.getLogger("ecoinbox").error("unexpected error", exc_info=error)
    for handler in logging.getLogger("ecoinbox").handlers:
        handler.flush()
    return path
