"""A resource's own narrative (`text.div`, XHTML written by the source system), made safe to show.

FHIR narrative is markup from another organisation's system: it may carry scripts, event handlers, styles,
images and links to anywhere. Shown as the source wrote it, it could run code, fetch a remote image (and
tell a server who opened which record), or dress itself up as part of the viewer. So it goes through
nh3 (the Rust ammonia sanitiser) with an allow-list of plain structural tags and no URLs of any scheme:
what survives is text, paragraphs, lists and tables. The window then shows it in a text browser that
loads nothing (viewer.ui.safe_browser), a second fence should the first ever let something through.
"""

from __future__ import annotations

import nh3

ALLOWED_TAGS = frozenset({
    "div", "p", "span", "br", "hr", "b", "strong", "i", "em", "u", "sub", "sup", "small",
    "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "code",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "h1", "h2", "h3", "h4", "h5", "h6",
})
ALLOWED_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
# removed with everything inside them, not just unwrapped
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript",
                                  "svg", "math", "title", "head", "frame", "frameset", "applet"})
MAX_NARRATIVE = 200_000  # characters: a narrative longer than this is cut, and says so


def safe_html(xhtml: str) -> str:
    """The narrative with only ALLOWED_TAGS (no attributes but table spans, no links, no images, no
    styles, no comments); text content is kept and escaped."""
    text = xhtml[:MAX_NARRATIVE]
    cleaned = nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(),
        strip_comments=True,
        link_rel=None,
    )
    if len(xhtml) > MAX_NARRATIVE:
        cleaned += "<p><b>[The rest of this narrative is too long to show here.]</b></p>"
    return cleaned
