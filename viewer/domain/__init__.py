"""The Qt-free clinical model. It imports nothing of the project, so every layer can depend on it."""

from viewer.domain.clinical import Allergy, Medication, Problem, Reaction, RecordWarning, Unreadable
from viewer.domain.coding import Coding, Concept
from viewer.domain.dates import PartialDate
from viewer.domain.events import Document, Encounter, Flag, Immunisation, Observation, Referral, Report
from viewer.domain.patient import HumanName, Patient
from viewer.domain.provenance import Provenance, SourceKind
from viewer.domain.source_record import SourceRecord

__all__ = [
    "Allergy",
    "Coding",
    "Concept",
    "Document",
    "Encounter",
    "Flag",
    "HumanName",
    "Immunisation",
    "Medication",
    "Observation",
    "PartialDate",
    "Patient",
    "Problem",
    "Provenance",
    "Reaction",
    "RecordWarning",
    "Referral",
    "Report",
    "SourceKind",
    "SourceRecord",
    "Unreadable",
]
