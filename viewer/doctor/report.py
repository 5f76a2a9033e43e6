"""One check's outcome and how a list of them is printed: an aligned table for people, JSON for scripts.

Every detail is written for the IT desk and never holds patient data or secrets: the doctor reads no
record, and secret settings are shown only as set or not set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from viewer import __version__


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # worth a look, but the viewer works
    FAIL = "fail"  # the viewer will not work as deployed: the command exits non-zero


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SettingRow:
    name: str
    value: str
    origin: str  # default, user, machine or policy
    scope: str


@dataclass(frozen=True)
class Report:
    command: str
    checks: list[Check]
    settings: list[SettingRow] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.FAIL]

    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "wardview": __version__,
            "command": self.command,
            "ok": not self.failed,
            "checks": [
                {"name": c.name, "status": str(c.status), "detail": c.detail, "data": c.data}
                for c in self.checks
            ],
            "settings": [
                {"name": s.name, "value": s.value, "origin": s.origin, "scope": s.scope}
                for s in self.settings
            ],
        }

    def to_json(self) -> str:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"

    def to_table(self) -> str:
        lines: list[str] = []
        if self.settings:
            lines.append("Settings")
            values = [(s.name, s.value, s.origin) for s in self.settings]
            lines += _table(("setting", "value", "from"), values)
            lines.append("")
        lines.append("Checks")
        rows = [(c.status.upper(), c.name, c.detail) for c in self.checks]
        lines += _table(("status", "check", "detail"), rows)
        verdict = "all checks passed" if not self.failed else f"{len(self.failed)} check(s) FAILED"
        lines += ["", f"wardview {self.command}: {verdict}"]
        return "\n".join(lines) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]

    def line(row: Sequence[str]) -> str:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        return "  ".join([*cells, str(row[-1])]).rstrip()

    return [line(header), line(["-" * w for w in widths] + ["-" * len(header[-1])]), *map(line, rows)]
