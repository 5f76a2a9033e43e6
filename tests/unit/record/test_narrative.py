"""Narratives are another system's markup: only plain structure survives, nothing that runs, loads,
styles or links (a battery of the usual injection and remote-load vectors)."""

import re

import pytest

from viewer.record.narrative import ALLOWED_TAGS, MAX_NARRATIVE, safe_html

VECTORS = [
    '<script>alert(1)</script>',
    '<SCRIPT SRC=http://127.0.0.1:9/x.js></SCRIPT>',
    '<img src=x onerror=alert(1)>',
    '<img src="http://127.0.0.1:9/track.png">',
    '<IMG SRC="javascript:alert(1)">',
    '<svg onload=alert(1)><circle r="1"/></svg>',
    '<iframe src="http://127.0.0.1:9/"></iframe>',
    '<object data="http://127.0.0.1:9/x.swf"></object>',
    '<embed src="http://127.0.0.1:9/x">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="http://127.0.0.1:9/phish">your results</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<div style="background:url(http://127.0.0.1:9/x)">x</div>',
    '<p style="position:fixed;top:0;left:0;width:100%">fake banner</p>',
    '<style>@import url(http://127.0.0.1:9/x.css); p{color:red}</style>',
    '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">',
    '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">',
    '<base href="http://127.0.0.1:9/">',
    '<form action="http://127.0.0.1:9/"><input name="q"><button>Go</button></form>',
    '<table background="http://127.0.0.1:9/x.png"><tr><td>x</td></tr></table>',
    '<body onload=alert(1)>',
    '<div onclick="alert(1)" onmouseover="alert(1)">hover</div>',
    '<!--[if gte IE 4]><script>alert(1)</script><![endif]-->',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<template><img src=x onerror=alert(1)></template>',
    '<video src="http://127.0.0.1:9/v.mp4" poster="http://127.0.0.1:9/p.png"></video>',
    '<audio src="http://127.0.0.1:9/a.mp3"></audio>',
    '<input type="image" src="http://127.0.0.1:9/x.png">',
    '<div xmlns="http://www.w3.org/1999/xhtml"><p>ok</p><script>alert(1)</script></div>',
]

DANGEROUS = re.compile(r"<\s*(script|img|svg|iframe|object|embed|a|style|link|meta|base|form|input|button|"
                       r"video|audio|body|template|math|noscript)\b|\bon\w+\s*=|javascript:|style\s*=|"
                       r"https?://|data:|url\(|href|src\s*=", re.IGNORECASE)


@pytest.mark.parametrize("vector", VECTORS)
def test_nothing_that_runs_loads_styles_or_links_survives(vector):
    cleaned = safe_html(vector)
    assert not DANGEROUS.search(cleaned), cleaned
    for tag in re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", cleaned):
        assert tag.lower() in ALLOWED_TAGS, (tag, cleaned)


def test_clinical_structure_and_text_are_kept():
    narrative = ('<div xmlns="http://www.w3.org/1999/xhtml"><p>Admitted with <b>chest pain</b>; '
                 'troponin &lt; 5 ng/L &amp; ECG normal.</p><ul><li>Aspirin 75mg</li></ul>'
                 '<table><tr><th colspan="2">Obs</th></tr><tr><td>BP</td><td>120/80</td></tr></table></div>')
    cleaned = safe_html(narrative)
    assert "<b>chest pain</b>" in cleaned and "<li>Aspirin 75mg</li>" in cleaned
    assert "troponin &lt; 5 ng/L &amp; ECG normal." in cleaned
    assert '<th colspan="2">Obs</th>' in cleaned and "<td>120/80</td>" in cleaned


def test_a_link_keeps_its_words_but_not_its_target():
    assert safe_html('<a href="https://example.org/">see the letter</a>') == "see the letter"


def test_an_enormous_narrative_is_cut_and_says_so():
    cleaned = safe_html("<p>" + "x" * (MAX_NARRATIVE + 10) + "</p>")
    assert cleaned.endswith("<p><b>[The rest of this narrative is too long to show here.]</b></p>")
    assert len(cleaned) < MAX_NARRATIVE + 200
