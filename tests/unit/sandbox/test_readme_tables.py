"""The README's table of synthetic patients is what trainers and testers use: it must match the sandbox."""

from pathlib import Path

from viewer.sandbox.population import build_world

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_lists_every_sandbox_patient_and_user():
    text = README.read_text(encoding="utf-8")
    world = build_world()
    for p in world.patients:
        shown = f"`{p.nhs_number[:3]} {p.nhs_number[3:6]} {p.nhs_number[6:]}`"
        row = next((line for line in text.splitlines() if shown in line), None)
        assert row is not None, f"{p.scenario} missing from README"
        assert f"`{p.scenario}`" in row and p.summary.replace("|", "/") in row
    for u in world.users:
        assert f"`{u.username}`" in text
