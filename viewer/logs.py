"""Logging with a redaction filter: no patient data in logs, ever, even when a message slips through.

The filter is the last line of defence, not the first: code must not log patient data at all. It masks
anything that looks like an NHS number, a JWT or bearer token, an authorization code, or an email address.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import TextIO

_PATTERNS = (
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*"), "[jwt]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.=~+/]+"), r"\1[token]"),
    (re.compile(r"(?i)\b(code|state|nonce|code_verifier|refresh_token|access_token|id_token)=[^&\s]+"),
     r"\1=[redacted]"),
    (re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"), "[nhs-number]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
)


def redact(text: str) -> str:
    """Mask identifiers and secrets in one string."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactionFilter(logging.Filter):
    """Rewrites each record's final message (args merged) and its exception text before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(
    level: int = logging.INFO, log_file: Path | None = None, stream: TextIO | None = None
) -> list[logging.Handler]:
    """Root logging to stderr (and a file when given), every handler behind the redaction filter.

    HTTP libraries are held at WARNING: at INFO they log whole URLs, and URLs carry NHS numbers.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    redaction = RedactionFilter()
    for handler in handlers:
        handler.addFilter(redaction)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=handlers, force=True)
    for noisy in ("httpx", "httpcore", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handlers
