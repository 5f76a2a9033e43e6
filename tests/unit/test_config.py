import logging

import pytest

from viewer.config import ConfigError, ConfigPaths, Settings, load_settings, merge_layers, read_toml


def test_defaults():
    s = merge_layers()
    assert s.idle_lock_minutes == 15
    assert s.session_max_hours == 12
    assert s.cache_retention_hours == 72


def test_user_cannot_override_endpoints_or_security(caplog):
    with caplog.at_level(logging.WARNING):
        s = merge_layers(user={"pds_url": "https://evil.example", "idle_lock_minutes": 600,
                               "font_scale": 1.25})
    assert s.pds_url == ""
    assert s.idle_lock_minutes == 15
    assert s.font_scale == 1.25
    assert "only policy or the machine" in caplog.text


def test_policy_beats_machine_beats_user():
    s = merge_layers(policy={"idle_lock_minutes": 5}, machine={"idle_lock_minutes": 10,
                     "pds_url": "https://pds"}, user={"font_scale": 2, "high_contrast": "yes"})
    assert s.idle_lock_minutes == 5
    assert s.pds_url == "https://pds"
    assert s.high_contrast is True


def test_policy_also_beats_user_for_user_settings():
    assert merge_layers(policy={"font_scale": 1.0}, user={"font_scale": 3.0}).font_scale == 1.0


def test_wrong_type_names_the_setting():
    with pytest.raises(ConfigError, match="idle_lock_minutes"):
        merge_layers(machine={"idle_lock_minutes": "soon"})


def test_unknown_settings_are_ignored(caplog):
    with caplog.at_level(logging.WARNING):
        assert merge_layers(machine={"nonsense": 1}) == Settings()
    assert "unknown setting" in caplog.text


def test_toml_layers(tmp_path):
    machine = tmp_path / "m.toml"
    machine.write_text('[wardview]\npds_url = "https://pds.example"\nidle_lock_minutes = 20\n')
    user = tmp_path / "u.toml"
    user.write_text('hospital_fhir_url = "https://nope"\nfont_scale = 1.5\n')
    s = load_settings(ConfigPaths(policy_file=tmp_path / "absent.toml", machine_file=machine, user_file=user))
    assert (s.pds_url, s.idle_lock_minutes, s.hospital_fhir_url, s.font_scale) == (
        "https://pds.example", 20, "", 1.5)


def test_corrupt_toml_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        read_toml(bad)


def test_sandbox_forbidden_by_policy():
    with pytest.raises(PermissionError):
        merge_layers(policy={"allow_sandbox": False}).for_sandbox({})


def test_describe_lists_every_setting_with_scope():
    rows = Settings.describe()
    names = {r[0] for r in rows}
    assert {"issuer", "pds_url", "font_scale"} <= names
    assert all(r[1] in ("machine", "user") for r in rows)


def test_readme_documents_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name, *_ in Settings.describe() if f"`{name}`" not in readme]
    assert missing == []


def test_bad_gp_connect_setting_stops_the_gui_with_a_clear_message(tmp_path, monkeypatch, capsys):
    from viewer import cli
    from viewer.config import ConfigPaths

    machine = tmp_path / "m.toml"
    machine.write_text('gpconnect_areas = "alergies"\nsds_url = "https://sds.test"\n')
    monkeypatch.setattr(ConfigPaths, "default", classmethod(lambda cls: ConfigPaths(None, machine, None)))
    import viewer.app

    def must_not_start(*_args, **_kwargs):
        raise AssertionError("the GUI started despite invalid settings")

    monkeypatch.setattr(viewer.app, "run", must_not_start)
    assert cli.main([]) == 2
    assert "gpconnect_areas" in capsys.readouterr().err


def test_origins_name_the_layer_that_won(tmp_path, caplog):
    from viewer.config import load_settings_with_origins

    policy = tmp_path / "p.toml"
    policy.write_text("idle_lock_minutes = 5\n")
    machine = tmp_path / "m.toml"
    machine.write_text('idle_lock_minutes = 20\npds_url = "https://pds.example"\n')
    user = tmp_path / "u.toml"
    user.write_text('font_scale = 1.5\npds_url = "https://elsewhere"\n')
    settings, origins = load_settings_with_origins(ConfigPaths(policy, machine, user))
    assert settings == load_settings(ConfigPaths(policy, machine, user))
    assert (origins["idle_lock_minutes"], origins["pds_url"], origins["font_scale"], origins["issuer"]) == (
        "policy", "machine", "user", "default")


def test_empty_registry_values_are_not_set():
    from viewer.config import registry_layer

    layer = registry_layer([("pds_url", "https://pds.example"), ("idle_lock_minutes", ""), ("asid", "")])
    assert layer == {"pds_url": "https://pds.example"}
    assert merge_layers(machine=layer).idle_lock_minutes == 15
