from datetime import UTC, date, datetime

import pytest

from viewer.config import ConfigError, merge_layers
from viewer.domain.provenance import SourceKind
from viewer.record.combined import AllergyState, combine
from viewer.record.status import SourceState, SourceStatus
from viewer.services.compose import gpconnect_areas_from
from viewer.sources.stu3_mapping import map_structured_record

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def names(parameters: dict) -> set[str]:
    return {p["name"] for p in parameters["parameter"]}


def test_default_asks_for_every_area():
    areas = gpconnect_areas_from(merge_layers(), TODAY)
    assert {"includeAllergies", "includeMedication", "includeConsultations", "includeProblems",
            "includeImmunisations", "includeUncategorisedData", "includeInvestigations",
            "includeReferrals"} <= names(areas.parameters("9990000018"))


def test_trust_can_narrow_the_request():
    areas = gpconnect_areas_from(merge_layers(machine={"gpconnect_areas": "allergies, medication"}), TODAY)
    requested = names(areas.parameters("9990000018"))
    assert {"includeAllergies", "includeMedication"} <= requested
    assert not requested & {"includeConsultations", "includeProblems", "includeInvestigations"}


def test_allergies_not_requested_is_not_silently_absent():
    areas = gpconnect_areas_from(merge_layers(machine={"gpconnect_areas": "medication"}), TODAY)
    assert "includeAllergies" not in names(areas.parameters("9990000018"))
    # a record without an allergy List: the area is 'not supplied', and the banner says so
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Patient", "id": "p1",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}]}}]}
    gp = map_structured_record(bundle, retrieved_at=NOW)
    assert gp.allergies_supplied is False
    statuses = {k: SourceStatus(k, SourceState.LOADED, NOW) for k in (SourceKind.PDS, SourceKind.GP)}
    assert combine(None, statuses, gp, None).allergy_state is AllergyState.UNAVAILABLE


def test_recent_consultations_and_investigation_period():
    settings = merge_layers(
        machine={"gpconnect_recent_consultations": 3, "gpconnect_investigation_months": 12}
    )
    areas = gpconnect_areas_from(settings, TODAY)
    assert areas.most_recent_consultations == 3
    start, end = areas.investigation_period
    assert end is None and (TODAY - start).days in range(360, 370)


def test_unknown_area_is_a_named_configuration_error():
    with pytest.raises(ConfigError, match=r"gpconnect_areas.*alergies"):
        gpconnect_areas_from(merge_layers(machine={"gpconnect_areas": "alergies"}), TODAY)


def test_user_cannot_change_what_is_requested():
    assert merge_layers(user={"gpconnect_areas": "medication"}).gpconnect_areas.startswith("allergies")
