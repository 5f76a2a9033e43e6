"""Patient search: criteria checked before PDS sees them, the same role rule as opening a record, each
match as one display line, and every attempt audited by the kind of criteria, never their values."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.auth.oidc import TokenSet
from viewer.auth.roles import Role
from viewer.auth.session import ClinicianSession, PersonName
from viewer.domain.dates import PartialDate
from viewer.domain.patient import HumanName, Patient
from viewer.domain.provenance import Provenance, SourceKind
from viewer.services.audit import Audit
from viewer.services.search import InvalidCriteria, SearchCriteria, match_row, parse_birth_date
from viewer.services.workspace import NoSuitableRole, Workspace
from viewer.sources.errors import SourceUnavailable, TooManyMatches
from viewer.sources.pds import PdsMatch
from viewer.store.audit_log import AuditAction, AuditEntry, AuditLog, AuditOutcome
from viewer.store.database import Store

ORG = "RWV99"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DOCTOR = Role("555000000101", ORG, "Clinical Practitioner", "R8000")
ADMIN = Role("555000000109", ORG, "Receptionist", "R8008")
FAMILY_DOB = SearchCriteria(family="Okafor", birth_date=date(1950, 3, 4))


def session(role: Role = DOCTOR) -> ClinicianSession:
    return ClinicianSession(
        user_id="555000000001", name=PersonName("Asha", "Patel"), roles=(role,), selected_role=role,
        tokens=TokenSet("tok", NOW + timedelta(hours=1)), signed_in_at=NOW,
    )


def patient(nhs: str, *, restricted: bool = False, deceased: bool = False) -> Patient:
    return Patient(
        nhs_number=nhs, name=HumanName("Okafor", ("Grace", "Ada"), ("Mrs",)), gender="female",
        birth_date=PartialDate(1950, 3, 4), provenance=Provenance(SourceKind.PDS, "Patient", nhs, NOW),
        postcode=None if restricted else "LS1 4AB", gp_practice_ods=None if restricted else "Y12345",
        restricted=restricted, deceased=deceased, deceased_date=PartialDate(2026, 1) if deceased else None,
    )


class FakePds:
    def __init__(self, answer: list[PdsMatch] | None = None, error: Exception | None = None):
        self.answer, self.error, self.queries = answer or [], error, []

    async def search(self, query, ctx):
        self.queries.append((query, ctx.role_id))
        if self.error is not None:
            raise self.error
        return self.answer


class Recorder:
    """The real Audit on a real (temporary) log; `entries` reads back what was stored."""

    def __init__(self, audit_log: AuditLog) -> None:
        self.audit = Audit(audit_log, org_ods=ORG)
        self._log = audit_log

    @property
    def entries(self) -> list[AuditEntry]:
        return self._log.last(100)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Callable[[FakePds | None], tuple[Workspace, Recorder]]]:
    store = Store.open(tmp_path / "search-audit.db", backend=MemoryKeyring())

    def build(pds: FakePds | None) -> tuple[Workspace, Recorder]:
        recorder = Recorder(AuditLog(store))
        ws = Workspace(oidc=None, browser_for=lambda _u: None, open_record=None,  # type: ignore[arg-type]
                       org_ods=ORG, audit=recorder.audit, patient_search=pds)
        return ws, recorder

    try:
        yield build
    finally:
        store.close()


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize(("criteria", "message"), [
    (SearchCriteria(family="Okafor"), "at least the family name and the date of birth"),
    (SearchCriteria(birth_date=date(1950, 3, 4), given="Grace"), "at least the family name"),
    (SearchCriteria(family="O*", birth_date=date(1950, 3, 4)), "after the first two characters"),
    (SearchCriteria(family="Okafor", birth_date=date(1950, 3, 4), fuzzy=True), "similar names needs"),
    (SearchCriteria(family="Oka*", given="G", birth_date=date(1950, 3, 4), fuzzy=True), "Wildcards"),
    (SearchCriteria(family="X" * 36, birth_date=date(1950, 3, 4)), "too long"),
    (SearchCriteria(family="Okafor", birth_date=date(2027, 1, 1)), "in the future"),
    (SearchCriteria(family="Okafor", birth_date=date(1950, 3, 4), gender="f"), "Gender must be"),
])
def test_criteria_pds_would_refuse_are_named(criteria, message):
    assert message in (criteria.problem(today=date(2026, 11, 23)) or "")


def test_criteria_pds_accepts():
    assert FAMILY_DOB.problem() is None
    assert SearchCriteria(family="Oka*", birth_date=date(1950, 3, 4), postcode="LS*").problem() is None
    fuzzy = SearchCriteria(given="Grace", birth_date=date(1950, 3, 4), gender="female", postcode="LS1 4AB",
                           fuzzy=True)
    assert fuzzy.problem() is None
    assert fuzzy.kind() == "given+birthdate+gender+postcode+fuzzy"
    params = dict(SearchCriteria(family=" Okafor ", birth_date=date(1950, 3, 4), gender="Female",
                                 postcode="ls1 4ab").query().params())
    assert params == {"family": "Okafor", "gender": "female", "address-postalcode": "LS1 4AB",
                      "birthdate": "eq1950-03-04", "_max-results": "50"}


def test_criteria_repr_shows_only_their_kind():
    assert repr(FAMILY_DOB) == "SearchCriteria(family+birthdate)"
    assert "Okafor" not in repr(FAMILY_DOB) and "1950" not in repr(FAMILY_DOB)


def test_match_row_formats_the_line():
    row = match_row(patient("9990000018"))
    assert (row.name, row.born, row.gender, row.nhs_display, row.postcode, row.gp_practice) == (
        "OKAFOR, Grace Ada (Mrs)", "04-Mar-1950", "Female", "999 000 0018", "LS1 4AB", "Y12345")
    assert row.nhs_number == "9990000018"


def test_match_row_of_a_restricted_or_deceased_patient():
    hidden = match_row(patient("9990000018", restricted=True))
    assert hidden.postcode == hidden.gp_practice == "Restricted" and hidden.restricted
    died = match_row(patient("9990000018", deceased=True))
    assert died.born == "04-Mar-1950 (died Jan-2026)"


def test_search_returns_rows_and_audits_kind_count_and_numbers(workspace):
    pds = FakePds([PdsMatch(patient("9990000018"), 1.0), PdsMatch(patient("9990000026"), 0.9)])
    ws, audit = workspace(pds)
    rows = run(ws.search_patients(FAMILY_DOB, session()))
    assert [r.nhs_number for r in rows] == ["9990000018", "9990000026"]
    assert pds.queries[0][1] == DOCTOR.person_roleid  # NHSD-Session-URID
    [entry] = audit.entries
    assert (entry.action, entry.outcome) == (AuditAction.SEARCH, AuditOutcome.SUCCESS)
    assert entry.user_id == "555000000001" and entry.role_id == DOCTOR.person_roleid and entry.patient is None
    assert entry.detail == {"criteria": "family+birthdate", "matches": 2,
                                "results": ["9990000018", "9990000026"]}
    stored = str([(e.detail, e.emergency_reason) for e in audit.entries])
    assert "Okafor" not in stored and "1950" not in stored


def test_a_search_that_finds_nobody_is_audited_with_zero(workspace):
    ws, audit = workspace(FakePds([]))
    assert run(ws.search_patients(FAMILY_DOB, session())) == []
    assert audit.entries[-1].detail["matches"] == 0


def test_no_suitable_role_cannot_search_either(workspace):
    pds = FakePds([PdsMatch(patient("9990000018"), 1.0)])
    ws, audit = workspace(pds)
    with pytest.raises(NoSuitableRole):
        run(ws.search_patients(FAMILY_DOB, session(ADMIN)))
    assert pds.queries == []
    [entry] = audit.entries
    assert (entry.action, entry.outcome) == (AuditAction.SEARCH, AuditOutcome.REFUSED)
    assert entry.detail == {"criteria": "family+birthdate", "reason": "role"}


def test_invalid_criteria_are_refused_before_pds(workspace):
    pds = FakePds()
    ws, audit = workspace(pds)
    with pytest.raises(InvalidCriteria, match="family name and the date of birth"):
        run(ws.search_patients(SearchCriteria(family="Okafor"), session()))
    assert pds.queries == []
    assert audit.entries[-1].outcome is AuditOutcome.REFUSED
    assert audit.entries[-1].detail == {"criteria": "family", "reason": "criteria"}


def test_too_many_matches_is_refused_and_pds_down_failed(workspace):
    ws, audit = workspace(FakePds(error=TooManyMatches("Too many patients match: add more detail")))
    with pytest.raises(TooManyMatches):
        run(ws.search_patients(FAMILY_DOB, session()))
    assert audit.entries[-1].outcome is AuditOutcome.REFUSED
    assert audit.entries[-1].detail["reason"] == "too-many-matches"

    ws, audit = workspace(FakePds(error=SourceUnavailable("The Spine (PDS) is not answering")))
    with pytest.raises(SourceUnavailable):
        run(ws.search_patients(FAMILY_DOB, session()))
    assert audit.entries[-1].outcome is AuditOutcome.FAILED
    assert audit.entries[-1].detail == {"criteria": "family+birthdate", "error": "SourceUnavailable"}


def test_without_a_pds_client_the_search_fails_plainly(workspace):
    ws, audit = workspace(None)
    with pytest.raises(SourceUnavailable, match="not set up"):
        run(ws.search_patients(FAMILY_DOB, session()))
    assert audit.entries[-1].outcome is AuditOutcome.FAILED


@pytest.mark.parametrize("text", ["14-07-1945", "14/07/1945", "14.07.1945", " 14 07 1945 ", "14-Jul-1945",
                                  "1945-07-14", "14071945"])
def test_birth_dates_as_clinicians_type_them(text):
    assert parse_birth_date(text) == date(1945, 7, 14)


@pytest.mark.parametrize("text", ["31-02-1945", "1945", "yesterday", "07-14-1945"])
def test_a_birth_date_that_cannot_be_read_is_refused_with_an_example(text):
    with pytest.raises(InvalidCriteria, match="for example 14-07-1945"):
        parse_birth_date(text)
    assert parse_birth_date("  ") is None
