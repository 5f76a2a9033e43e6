import logging

from viewer.logs import RedactionFilter, redact


def test_redacts_identifiers_and_secrets():
    text = redact("GET /Patient/9990000018 Bearer abc.def-ghi code=xyz&state=s1 "
                  "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. someone@nhs.net 999 000 0018")
    for secret in ("9990000018", "abc.def-ghi", "xyz", "s1", "eyJhbGci", "someone@nhs.net", "999 000 0018"):
        assert secret not in text


def test_filter_rewrites_args_and_exception_text():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "patient %s", ("9990000018",), None)
    try:
        raise ValueError("for 9990000018")
    except ValueError as exc:
        record.exc_info = (ValueError, exc, exc.__traceback__)
    assert RedactionFilter().filter(record)
    assert "9990000018" not in record.getMessage()
    assert "9990000018" not in record.exc_text
