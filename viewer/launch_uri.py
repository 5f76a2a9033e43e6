"""`wardview://patient/NHSNUMBER`: the contextual launch other ward systems use to open a patient.

Qt-free, so the command line can turn the URL into `--patient` before anything starts. Only one form is
accepted and the number must pass its check digit: a link is input from another program, and a viewer
must never guess which patient a malformed one meant.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from viewer.domain.nhs_number import is_valid, normalise

SCHEME = "wardview"


class BadLaunchUri(ValueError):
    """The URL is not `wardview://patient/<valid NHS number>`; the message says what is wrong."""


def patient_from_uri(uri: str) -> str:
    """The normalised NHS number of a `wardview://patient/NHSNUMBER` link (spaces or %20 allowed)."""
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() != SCHEME:
        raise BadLaunchUri("not a wardview:// link")
    path = [p for p in unquote(parts.path).split("/") if p]
    host = parts.netloc.lower()
    if not host and path:  # `wardview:patient/N`, as some launchers write it
        host, path = path[0].lower(), path[1:]
    if host != "patient" or len(path) != 1 or parts.query or parts.fragment:
        raise BadLaunchUri("a wardview link must be wardview://patient/NHSNUMBER")
    if not is_valid(path[0]):
        raise BadLaunchUri("the link's NHS number is not valid (the check digit does not match)")
    return normalise(path[0])


def rewrite_launch_args(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """argv with a `wardview://` link (as Windows passes it to the registered handler) turned into
    `--patient N`, and None; or, for a malformed link, argv without it and what was wrong with it: the
    viewer still starts (a click on a bad link must not look like a crash) and says so, opening nobody."""
    out: list[str] = []
    problem = None
    for arg in argv:
        if not arg.lower().startswith(f"{SCHEME}:"):
            out.append(arg)
            continue
        try:
            out += ["--patient", patient_from_uri(arg)]
        except BadLaunchUri as exc:
            problem = f"The wardview link could not be used: {exc}. No patient was opened."
    return out, problem
