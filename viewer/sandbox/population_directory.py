"""Who works where in the synthetic world: the GP practices, the hospital trust, the demo clinicians who
sign in, and the staff named in records.

Role codes use the CIS2 `Sxxxx:Gxxxx:Rxxxx` form, as CIS2 sends them. Activity codes are plausible
values, not checked against the national RBAC database: B0264 = perform patient administration (the
only code of the admin role), B0360/B0370/B0380 = clinical record access activities.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from viewer.sandbox.world import DemoUser, Name, Practice, Role

HOSPITAL_ODS = "RWV99"
HOSPITAL_NAME = "Wardview Sandbox Hospital NHS Trust"

PRACTICES: tuple[Practice, ...] = (
    Practice("Y90001", "Riverside Medical Practice", "200000090001", "Y90001-9990001",
             ("Riverside Health Centre", "1 Mill Lane", "Wardleigh"), "WL1 2AB"),
    Practice("Y90002", "Castlegate Surgery", "200000090002", "Y90002-9990002",
             ("14 Castlegate", "Wardleigh"), "WL3 7HD"),
    Practice("Y90003", "Moorland Health Centre", "200000090003", "Y90003-9990003",
             ("Moor Road", "Easton Moor", "Wardleigh"), "WL9 4EF"),
)
RIVERSIDE, CASTLEGATE, MOORLAND = PRACTICES

CLINICAL_ACTIVITY_CODES = ("B0360", "B0370", "B0380")
ADMIN_ACTIVITY_CODES = ("B0264",)


def _role(role_id: str, name: str, code: str, activities: tuple[str, ...] = CLINICAL_ACTIVITY_CODES) -> Role:
    return Role(role_id, HOSPITAL_ODS, HOSPITAL_NAME, name, code, activities)


USERS: tuple[DemoUser, ...] = (
    DemoUser("555000000001", "dr.morgan", Name("Morgan", ("Alice",), "Dr"), (
        _role("555000000101", "Clinical Practitioner Access Role", "S8000:G8000:R8000"),)),
    DemoUser("555000000002", "nurse.adebayo", Name("Adebayo", ("Ben",), "Mr"), (
        _role("555000000201", "Nurse Access Role", "S8000:G8001:R8001"),
        _role("555000000202", "Clinical Practitioner Access Role", "S8000:G8000:R8000"))),
    DemoUser("555000000003", "pharm.ng", Name("Ng", ("Chloe",), "Ms"), (
        _role("555000000301", "Health Professional Access Role", "S8000:G8003:R8003"),)),
    DemoUser("555000000004", "admin.price", Name("Price", ("Daniel",), "Mr"), (
        _role("555000000401", "Admin or Clinical Support Access Role", "S8002:G8008:R8008",
              ADMIN_ACTIVITY_CODES),)),
    DemoUser("555000000005", "student.patel", Name("Patel", ("Ravi",)), (
        _role("555000000501", "Healthcare Student Access Role", "S8000:G8004:R8004"),),
             acr="AAL2_OR_AAL3_ANY"),
)

STAFF_NAMES: Mapping[str, tuple[Name, ...]] = MappingProxyType({
    "Y90001": (Name("Okafor", ("Adaeze",), "Dr"), Name("Lindqvist", ("Erik",), "Dr"),
               Name("Marsh", ("Helen",), "Mrs")),
    "Y90002": (Name("Bhatt", ("Sanjay",), "Dr"), Name("Hughes", ("Carys",), "Dr"),
               Name("O'Neill", ("Roisin",), "Ms")),
    "Y90003": (Name("Fairbairn", ("Duncan",), "Dr"), Name("Achterberg", ("Nina",), "Dr")),
    HOSPITAL_ODS: (Name("Kowalczyk", ("Marek",), "Dr"), Name("Aziz", ("Layla",), "Dr"),
                   Name("Pennington", ("James",), "Mr"), Name("Osei", ("Abena",), "Dr")),
})
