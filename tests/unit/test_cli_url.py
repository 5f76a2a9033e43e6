"""`wardview://` links (the URL protocol the MSI registers) become command lines the viewer already checks."""

from viewer.cli import url_arguments


def test_a_patient_link_opens_that_patient_after_sign_in():
    assert url_arguments(["wardview://patient/9993013471"]) == ["--patient", "9993013471"]
    assert url_arguments(["WARDVIEW:patient/999%20301%203471/"]) == ["--patient", "9993013471"]


def test_other_links_start_the_viewer_with_nothing_pre_filled(caplog):
    assert url_arguments(["wardview://admin/delete-everything"]) == []
    assert "9993013471" not in caplog.text


def test_ordinary_command_lines_are_untouched():
    assert url_arguments(["doctor", "--json"]) == ["doctor", "--json"]
    assert url_arguments([]) == []
