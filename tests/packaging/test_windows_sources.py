"""The MSI source and the group policy templates against `Settings.describe()`: every machine-scope
setting is an MSI property kept across upgrades and a policy, and nothing else is. A setting added to
viewer/config.py without them fails here, naming what to add."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from viewer.config import MACHINE, Settings

REPO = Path(__file__).resolve().parents[2]
WINDOWS = REPO / "packaging" / "windows"
WIX = {"w": "http://schemas.microsoft.com/wix/2006/wi"}
GP = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
MACHINE_SETTINGS = {name: default for name, scope, _doc, default in Settings.describe() if scope == MACHINE}


@pytest.fixture(scope="module")
def product() -> ET.Element:
    return ET.parse(WINDOWS / "wardview.wxs").getroot().find("w:Product", WIX)


@pytest.fixture(scope="module")
def admx() -> ET.Element:
    return ET.parse(WINDOWS / "policy" / "wardview.admx").getroot()


@pytest.fixture(scope="module")
def adml() -> ET.Element:
    return ET.parse(WINDOWS / "policy" / "en-US" / "wardview.adml").getroot()


def test_every_machine_setting_is_a_secure_public_property(product: ET.Element) -> None:
    public = {p.get("Id") for p in product.findall("w:Property[@Secure='yes']", WIX)}
    assert public == {name.upper() for name in MACHINE_SETTINGS}


def test_every_property_is_written_under_the_machine_key(product: ET.Element) -> None:
    written = {
        r.get("Name"): r for r in product.iter(f"{{{WIX['w']}}}RegistryValue")
        if r.get("Key") == r"Software\Wardview"
    }
    assert set(written) == set(MACHINE_SETTINGS)
    for name, value in written.items():
        shape = (value.get("Root"), value.get("Type"), value.get("Value"))
        assert shape == ("HKLM", "string", f"[{name.upper()}]")


def test_every_property_is_kept_across_upgrades(product: ET.Element) -> None:
    searches = {s.get("Name"): (p.get("Id"), s) for p in product.findall("w:Property", WIX)
                for s in p.findall("w:RegistrySearch", WIX)}
    actions = {a.get("Id"): a for a in product.findall("w:CustomAction", WIX)}
    customs = {c.get("Action"): (c.text or "").strip()
               for c in product.findall("w:InstallExecuteSequence/w:Custom", WIX)}
    assert set(searches) == set(MACHINE_SETTINGS)
    for name in MACHINE_SETTINGS:
        prop = name.upper()
        saved, search = searches[name]
        assert saved == f"SAVED_{prop}"
        where = (search.get("Root"), search.get("Key"), search.get("Win64"))
        assert where == ("HKLM", r"Software\Wardview", "yes")
        action = actions[f"Keep.{name}"]
        assert (action.get("Property"), action.get("Value")) == (prop, f"[SAVED_{prop}]")
        assert customs[f"Keep.{name}"] == f"SAVED_{prop} AND NOT {prop}"


def test_per_machine_major_upgrade_shortcut_and_url_protocol(product: ET.Element) -> None:
    assert product.get("UpgradeCode") and product.get("Id") == "*"
    assert product.find("w:Package", WIX).get("InstallScope") == "perMachine"
    assert product.find("w:MajorUpgrade", WIX) is not None
    shortcut = product.find(".//w:File[@Name='wardview.exe']/w:Shortcut", WIX)
    assert shortcut.get("Directory") == "ProgramMenuFolder"
    command = product.find(r".//w:RegistryValue[@Key='Software\Classes\wardview\shell\open\command']", WIX)
    assert command.get("Value") == '"[INSTALLDIR]wardview.exe" "%1"'
    protocol = product.find(".//w:RegistryValue[@Name='URL Protocol']", WIX)
    assert protocol.get("Key") == r"Software\Classes\wardview"


def _policy_value(policy: ET.Element) -> tuple[str, str]:
    """(value name, kind) a policy writes: its own valueName for on/off, else its one element's."""
    if policy.get("valueName"):
        return policy.get("valueName"), "onoff"
    (element,) = list(policy.find("p:elements", GP))
    return element.get("valueName"), element.tag.split("}")[1]


def test_admx_has_a_policy_for_every_machine_setting_and_no_other(admx: ET.Element) -> None:
    policies = admx.findall("p:policies/p:policy", GP)
    written = {_policy_value(p)[0]: p for p in policies}
    assert set(written) == set(MACHINE_SETTINGS)
    expected_kind = {bool: "onoff", int: "decimal", float: "text", str: "text"}
    for name, policy in written.items():
        assert policy.get("name") == name
        assert (policy.get("class"), policy.get("key")) == ("Machine", r"Software\Policies\Wardview")
        assert _policy_value(policy)[1] == expected_kind[type(MACHINE_SETTINGS[name])], name


def test_adml_defines_every_string_and_presentation_the_admx_uses(admx: ET.Element, adml: ET.Element) -> None:
    strings = {s.get("id") for s in adml.findall("p:resources/p:stringTable/p:string", GP)}
    shown = adml.findall("p:resources/p:presentationTable/p:presentation", GP)
    presentations = {p.get("id"): p for p in shown}
    text = ET.tostring(admx, encoding="unicode")
    used_strings = set(_references(text, "$(string."))
    used_presentations = set(_references(text, "$(presentation."))
    assert used_strings <= strings and used_presentations <= set(presentations)
    for policy in admx.findall("p:policies/p:policy", GP):
        elements = policy.find("p:elements", GP)
        for element in [] if elements is None else list(elements):
            shown = presentations[policy.get("name")]
            assert any(box.get("refId") == element.get("id") for box in shown), policy.get("name")


def _references(text: str, prefix: str) -> list[str]:
    return [part.split(")", 1)[0] for part in text.split(prefix)[1:]]


@pytest.mark.skipif(shutil.which("wixl") is None or shutil.which("msiinfo") is None,
                    reason="wixl and msiinfo (apt: wixl msitools) build and read the MSI")
def test_wixl_builds_it_over_a_stand_in_payload(tmp_path: Path) -> None:
    payload = tmp_path / "payload"
    (payload / "_internal").mkdir(parents=True)
    for name in ("wardview", "wardview-cli", "_internal/lib.txt"):
        (payload / name).write_text(name)
    harvested = subprocess.run(  # wixl wants paths relative to where it runs
        ["wixl-heat", "-p", "payload/", "--component-group", "CG.Payload", "--var", "var.SourceDir",
         "--directory-ref", "INSTALLDIR", "--win64"],
        input="payload/_internal/lib.txt\n", capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout
    (tmp_path / "payload.wxs").write_text(harvested)
    msi = tmp_path / "wardview.msi"
    subprocess.run(
        ["wixl", "-a", "x64", "-D", "Version=9.8.7", "-D", "SourceDir=payload", "-D", "ExeSuffix=",
         "-D", "Win64=yes", "-o", str(msi), str(WINDOWS / "wardview.wxs"), "payload.wxs"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )

    checked = subprocess.run([sys.executable, str(REPO / "packaging" / "check_msi.py"), str(msi), "9.8.7"],
                             capture_output=True, text=True, cwd=REPO)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "MSI tables OK" in checked.stdout and "PDS_URL" in checked.stdout
    files = subprocess.run(["msiinfo", "export", str(msi), "File"], capture_output=True, text=True).stdout
    assert all(name in files for name in ("wardview.exe", "wardview-cli.exe", "lib.txt"))


def test_check_msi_names_what_is_missing(tmp_path: Path) -> None:
    """The checker itself: an MSI without the settings fails, and says which."""
    (tmp_path / "payload").mkdir()
    (tmp_path / "bare.wxs").write_text(BARE_WXS)
    if shutil.which("wixl") is None or shutil.which("msiinfo") is None:
        pytest.skip("wixl and msiinfo (apt: wixl msitools) build and read the MSI")
    subprocess.run(["wixl", "-a", "x64", "-o", "bare.msi", "bare.wxs"], cwd=tmp_path, check=True,
                   capture_output=True)
    checked = subprocess.run([sys.executable, str(REPO / "packaging" / "check_msi.py"),
                              str(tmp_path / "bare.msi"), "1.0.0"], capture_output=True, text=True, cwd=REPO)
    assert checked.returncode == 1
    assert "Registry: Software\\Wardview\\pds_url is not written from [PDS_URL]" in checked.stdout
    assert "Shortcut: expected one Start menu shortcut" in checked.stdout


BARE_WXS = """<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="Bare" Language="1033" Version="1.0.0" Manufacturer="Test"
           UpgradeCode="11111111-2222-4333-8444-555555555555">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="perMachine"/>
    <Media Id="1" Cabinet="bare.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="Bare">
          <Component Id="C.Key" Guid="11111111-2222-4333-8444-666666666666" Win64="yes">
            <RegistryValue Root="HKLM" Key="Software\\Bare" Name="v" Type="string" Value="1" KeyPath="yes"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="C.Key"/></Feature>
  </Product>
</Wix>
"""


def test_readme_lists_every_msi_property() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deploying at a trust", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {line.split("`")[1] for line in rows if line.split("`")[1].isupper()}
    assert listed == {name.upper() for name in MACHINE_SETTINGS}
