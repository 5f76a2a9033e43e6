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
    if host != "patient" or len(path) != 1 or parts.query or parts.fragment:
        raise BadLaunchUri("a wardview link must be wardview://patient/NHSNUMBER")
    if not is_valid(path[0]):
        raise BadLaunchUri("the link's NHS number is not valid (the check digit does not match)")
    return normalise(path[0])


def rewrite_launch_args(argv: Sequence[str]) -> list[str]:
    """argv with a `wardview://` link (as Windows passes it to the registered handler) turned into
    `--patient N`; BadLaunchUri for a malformed link."""
    out: list[str] = []
    for arg in argv:
        if arg.lower().startswith(f"{SCHEME}:"):
            out += ["--patient", patient_from_uri(arg)]
        else:
            out.append(arg)
    return out
