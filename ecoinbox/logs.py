"""Logging to a private file, with tokens masked: the terminal belongs to the TUI."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

from ecoinbox.channels.http import RedactingFilter, install_log_redaction

LOGGERS = ("ecoinbox", "httpx", "httpcore")
"""The loggers whose records go to the log file."""


def default_log_path() -> Path:
    return platformdirs.user_log_path("ecoinbox", appauthor=False) / "ecoinbox.log"


def setup_logging(path: Path | None = None) -> Path | None:
    """Send ecoinbox's warnings (or ECOINBOX_LOG_LEVEL) to a 0600 file; None if it cannot."""
    install_log_redaction()
    path = path or Path(os.environ.get("ECOINBOX_LOG_FILE") or default_log_path())
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # a file left by an older run may be readable by others
        finally:
            os.close(descriptor)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None  # a read-only home must not stop the inbox; logs are a convenience
    # On the handler, the filter sees every record it writes, from child loggers too
    # ("httpcore.http11"), which a filter on the "httpcore" logger never does.
    handler.addFilter(RedactingFilter())
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
