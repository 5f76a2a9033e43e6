"""Defects the fuzz tests (tests/fuzz) found in the hospital page reader and R4 mapper, each as its
smallest example, fixed."""

from __future__ import annotations

import pytest

from viewer.sources.errors import UnreadableResponse
from viewer.sources.hospital_page import read_search_page


def test_bytes_that_are_not_utf8_inside_a_resource_make_the_page_unreadable():
    """The skeleton keeps each resource raw without checking its bytes; the resource's own decode then
    raised UnicodeDecodeError out of the client instead of the page's clear error."""
    page = b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"\x80atient"}}]}'
    with pytest.raises(UnreadableResponse, match="could not be read"):
        read_search_page(page, "Observation")
