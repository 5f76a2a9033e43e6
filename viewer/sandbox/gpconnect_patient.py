"""The head of a GP Connect structured record: the Patient and the practice's Organization.

The registration period and NHS number verification status are GP Connect extensions a consumer shows
in its banner, so they are written even though the synthetic world does not hold them.
"""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import NHS_NUMBER_SYSTEM, ODS_SYSTEM, address, codeable, fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, human_name
from viewer.sandbox.gpconnect_profiles import SD

_VERIFICATION_STATUS = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"


def patient_resource(ctx: RecordContext) -> dict:
    demo = ctx.record.demographics
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": ctx.patient_ref.split("/")[1],
        "meta": ctx.meta("CareConnect-GPC-Patient-1"),
        "extension": [
            {
                "url": SD + "Extension-CareConnect-GPC-RegistrationDetails-1",
                "extension": [
                    {
                        "url": "registrationPeriod",
                        "valuePeriod": {"start": fhir_date_time(ctx.registered)},
                    }
                ],
            }
        ],
        "identifier": [
            {
                "extension": [
                    {
                        "url": SD + "Extension-CareConnect-GPC-NHSNumberVerificationStatus-1",
                        "valueCodeableConcept": codeable(
                            _VERIFICATION_STATUS, "01", "Number present and verified"
                        ),
                    }
                ],
                "system": NHS_NUMBER_SYSTEM,
                "value": ctx.patient.nhs_number,
            }
        ],
        "active": True,
        "name": [human_name(demo.name, "official")],
        "gender": demo.gender,
        "birthDate": fhir_date_time(demo.birth_date),
        "generalPractitioner": [{"reference": ctx.clinician_ref(None)}],
        "managingOrganization": {"reference": ctx.org_ref},
    }
    if demo.phone:
        resource["telecom"] = [{"system": "phone", "value": demo.phone, "use": "home"}]
    home = address(demo.address, demo.postcode, use="home", type="physical")
    if home is not None:
        resource["address"] = [home]
    return resource


def organization_resource(ctx: RecordContext) -> dict:
    practice = ctx.practice
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": ctx.org_ref.split("/")[1],
        "meta": ctx.meta("CareConnect-GPC-Organization-1"),
        "identifier": [{"system": ODS_SYSTEM, "value": ctx.ods}],
        "name": practice.name,
    }
    work = address(practice.address, practice.postcode, use="work")
    if work is not None:
        resource["address"] = [work]
    return resource
