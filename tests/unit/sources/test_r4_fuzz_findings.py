"""Defects the fuzz tests (tests/fuzz) found in the hospital page reader and R4 mapper, each as its
smallest example, fixed."""

from __future__ import annotations

import pytest

from viewer.sources.errors import UnreadableResponse
from viewer.sources.hospital_page import read_search_page


@pytest.mark.parametrize("page", [
    b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"\x80atient"}}]}',
    b'{"resourceType":"\x80undle","entry":[]}',
], ids=["inside-a-resource", "in-the-skeleton"])
def test_bytes_that_are_not_utf8_make_the_page_unreadable(page):
    """msgspec raised UnicodeDecodeError (the skeleton's own strings, or a resource it kept raw without
    checking its bytes) out of the client instead of the page's clear error."""
    with pytest.raises(UnreadableResponse, match="could not be read"):
        read_search_page(page, "Observation")
