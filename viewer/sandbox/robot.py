"""A stand-in for the clinician's browser on the sandbox sign-in page.

`wardview --sandbox --demo-user U` and the end-to-end tests need the sign-in to happen without anyone
clicking. Rather than a back door in the IdP, the robot does what the browser and the clinician would:
load the authorize URL, read the sign-in page, submit the form for the chosen clinician and role, and
load the loopback redirect so the desktop app's listener receives the code. The IdP therefore runs
exactly the code path a real sign-in runs.

Synchronous httpx with its own short-lived clients, so it is safe to call from a worker thread.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(15.0)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class SignInRobotError(RuntimeError):
    """The sandbox sign-in could not be completed unattended (the message names the step)."""


@dataclass(slots=True)
class _Form:
    action: str
    username: str | None = None
    roles: list[str] = field(default_factory=list)


class _SignInPage(HTMLParser):
    """Collects each sign-in form on the page: its action, its username and its role choices."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = _Form(action=attr.get("action", ""))
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            if attr.get("name") == "username":
                self._current.username = attr.get("value")
            elif attr.get("name") == "role":
                self._current.roles.append(attr.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _is_loopback_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def _deliver(location: str) -> None:
    """Load the loopback redirect, as the browser would, so the app's listener gets the answer."""
    if not _is_loopback_http(location):
        raise SignInRobotError("the sign-in service redirected somewhere other than the loopback")
    with httpx.Client(timeout=TIMEOUT, trust_env=False, follow_redirects=False) as loopback:
        loopback.get(location)


def answer_sign_in(authorize_url: str, username: str, role_id: str | None, ca_cert: str) -> None:
    """Sign `username` in on the sandbox IdP for `role_id` (their first role when None).

    Raises SignInRobotError when the page does not offer that clinician or role, or the IdP refuses.
    An error the IdP redirects back (e.g. invalid request parameters) is still delivered to the
    loopback listener first, so the app sees the same outcome a browser would have produced.
    """
    context = ssl.create_default_context(cafile=ca_cert)
    with httpx.Client(verify=context, timeout=TIMEOUT, trust_env=False, follow_redirects=False) as idp:
        page = idp.get(authorize_url)
        if page.is_redirect and "location" in page.headers:
            _deliver(urljoin(authorize_url, page.headers["location"]))
            raise SignInRobotError("the sign-in service refused the request before showing the page")
        if page.status_code != 200:
            raise SignInRobotError(f"the sign-in page answered HTTP {page.status_code}")
        parser = _SignInPage()
        parser.feed(page.text)
        form = next((f for f in parser.forms if f.username == username), None)
        if form is None:
            raise SignInRobotError("that demo clinician is not offered on the sign-in page")
        role = role_id if role_id is not None else (form.roles[0] if form.roles else None)
        if role is None or role not in form.roles:
            raise SignInRobotError("that role is not offered for this demo clinician")
        action = urljoin(authorize_url, form.action or authorize_url)
        answer = idp.post(action, data={"username": username, "role": role, "action": "sign-in"})
        location = answer.headers.get("location")
        if not answer.is_redirect or not location:
            raise SignInRobotError(f"the sign-in form answered HTTP {answer.status_code}")
    _deliver(urljoin(authorize_url, location))
    log.debug("sandbox sign-in answered by the robot")
