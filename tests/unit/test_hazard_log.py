"""The hazard log names real tests: a control whose test was renamed or deleted is no control at all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOG = REPO / "tests" / "HAZARD_LOG.md"
HAZARD = re.compile(r"^## (HAZ-\d{2}) (.+)$", re.MULTILINE)
TEST_REF = re.compile(r"^\s*- (tests/[\w/]+\.py)::(test_\w+)\s*$", re.MULTILINE)


def _sections() -> dict[str, str]:
    text = LOG.read_text(encoding="utf-8")
    heads = list(HAZARD.finditer(text))
    return {m.group(1): text[m.end(): heads[i + 1].start() if i + 1 < len(heads) else len(text)]
            for i, m in enumerate(heads)}


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")}


def test_every_hazard_has_causes_controls_and_at_least_one_test() -> None:
    sections = _sections()
    assert len(sections) >= 10
    ids = HAZARD.findall(LOG.read_text(encoding="utf-8"))
    assert len({i for i, _ in ids}) == len(ids), "a hazard id is used twice"
    for hazard, body in sections.items():
        for field in ("**Causes**", "**Controls**", "**Severity**", "**Tests**"):
            assert field in body, f"{hazard} has no {field}"
        assert TEST_REF.search(body), f"{hazard} names no test"


def test_every_named_test_exists() -> None:
    missing = []
    cache: dict[Path, set[str]] = {}
    for hazard, body in _sections().items():
        for file, name in TEST_REF.findall(body):
            path = REPO / file
            if not path.is_file():
                missing.append(f"{hazard}: {file} does not exist")
                continue
            functions = cache.setdefault(path, _test_functions(path))
            if name not in functions:
                missing.append(f"{hazard}: {file}::{name} does not exist")
    assert not missing, "\n".join(missing)
