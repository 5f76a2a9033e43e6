"""Reads a built Wardview MSI's tables with msiinfo (msitools) and checks what trust IT relies on:
per-machine, the version, the major-upgrade rows, the Start menu shortcut, the URL protocol, and for every
machine-scope setting a public property written under HKLM\\Software\\Wardview and searched for on upgrade.

Usage: python packaging/check_msi.py WARDVIEW.MSI VERSION   (run from the repository root)
Prints the property list and one line per problem; exit 0 when there is none.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from viewer.config import MACHINE, Settings

MACHINE_KEY = r"Software\Wardview"


def table(msi: Path, name: str) -> list[list[str]]:
    """A table's rows (msiinfo export prints the column names, types and key first)."""
    out = subprocess.run(["msiinfo", "export", str(msi), name], capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines()[3:] if line]


def problems(msi: Path, version: str) -> list[str]:
    settings = [name for name, scope, _doc, _default in Settings.describe() if scope == MACHINE]
    found: list[str] = []
    properties = {row[0]: row[1] for row in table(msi, "Property")}
    for name, wanted in (("ProductVersion", version), ("ALLUSERS", "1")):
        if properties.get(name) != wanted:
            found.append(f"Property {name} is {properties.get(name)!r}, expected {wanted!r}")
    registry = {(row[2], row[3]): row[4] for row in table(msi, "Registry")}
    for name in settings:
        if registry.get((MACHINE_KEY, name)) != f"[{name.upper()}]":
            found.append(f"Registry: {MACHINE_KEY}\\{name} is not written from [{name.upper()}]")
    extra = {n for key, n in registry if key == MACHINE_KEY} - set(settings)
    if extra:
        found.append(f"Registry: {MACHINE_KEY} has values that are no setting: {sorted(extra)}")
    url_command = registry.get((r"Software\Classes\wardview\shell\open\command", ""))
    if url_command != '"[INSTALLDIR]wardview.exe" "%1"':
        found.append("Registry: the wardview:// URL protocol does not open wardview.exe")
    searched = {row[0] for row in table(msi, "AppSearch")}
    missing = {f"SAVED_{n.upper()}" for n in settings} - searched
    if missing:
        found.append(f"AppSearch: not kept across upgrades: {sorted(missing)}")
    shortcuts = [(row[1], row[2]) for row in table(msi, "Shortcut")]
    if shortcuts != [("ProgramMenuFolder", "Wardview")]:
        found.append(f"Shortcut: expected one Start menu shortcut, found {shortcuts}")
    upgrade = {row[6] for row in table(msi, "Upgrade")}
    if upgrade != {"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"}:
        found.append(f"Upgrade: expected the major upgrade and the downgrade guard, found {sorted(upgrade)}")
    sequence = {row[0] for row in table(msi, "InstallExecuteSequence")}
    if not {"FindRelatedProducts", "RemoveExistingProducts"} <= sequence:
        found.append("InstallExecuteSequence: no major upgrade actions")
    return found


def main(argv: list[str]) -> int:
    msi, version = Path(argv[0]), argv[1]
    settings = [name for name, scope, _doc, _default in Settings.describe() if scope == MACHINE]
    print("MSI properties (public, one per machine setting): " + " ".join(n.upper() for n in settings))
    found = problems(msi, version)
    for problem in found:
        print(f"MSI check FAILED: {problem}")
    if not found:
        print(f"MSI tables OK (Property, Registry, AppSearch, Shortcut, Upgrade, sequence): {msi}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
