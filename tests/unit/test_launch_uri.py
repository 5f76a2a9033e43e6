"""`wardview://patient/N` links: one form only, a valid number only; a malformed link never guesses."""

import pytest

from viewer.launch_uri import BadLaunchUri, patient_from_uri, rewrite_launch_args

NHS = "9990000018"


@pytest.mark.parametrize("uri", [
    f"wardview://patient/{NHS}",
    f"WARDVIEW://Patient/{NHS}/",
    "wardview://patient/999%20000%200018",
    "wardview://patient/999 000 0018",
    f"WARDVIEW:patient/{NHS}/",
    f" wardview://patient/{NHS} ",
])
def test_accepted_forms(uri):
    assert patient_from_uri(uri) == NHS


@pytest.mark.parametrize(("uri", "why"), [
    ("wardview://patient/9990000019", "check digit"),
    ("wardview://record/9990000018", "wardview://patient/NHSNUMBER"),
    ("wardview://patient/9990000018/extra", "wardview://patient/NHSNUMBER"),
    ("wardview://patient/9990000018?name=SMITH", "wardview://patient/NHSNUMBER"),
    ("wardview://patient/", "wardview://patient/NHSNUMBER"),
    ("https://patient/9990000018", "not a wardview:// link"),
])
def test_refused_forms_say_why(uri, why):
    with pytest.raises(BadLaunchUri, match=why):
        patient_from_uri(uri)


def test_the_link_windows_passes_becomes_patient():
    assert rewrite_launch_args(["--sandbox", f"wardview://patient/{NHS}"]) == (
        ["--sandbox", "--patient", NHS], None)
    assert rewrite_launch_args(["doctor", "--json"]) == (["doctor", "--json"], None)
    assert rewrite_launch_args([]) == ([], None)


def test_a_bad_link_starts_the_viewer_with_nobody_opened_and_says_why(caplog):
    argv, problem = rewrite_launch_args(["wardview://admin/delete-everything"])
    assert argv == []
    assert problem == ("The wardview link could not be used: a wardview link must be "
                       "wardview://patient/NHSNUMBER. No patient was opened.")
    argv, problem = rewrite_launch_args(["wardview://patient/9990000019"])
    assert argv == [] and "check digit" in problem and "9990000019" not in problem
