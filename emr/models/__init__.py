"""Models of the electronic medical record, one module per part of the record."""

from emr.models.clinical import Allergy, Condition, MedicationOrder
from emr.models.encounters import BreakGlassAccess, CareTeamMember, Encounter
from emr.models.notes import ClinicalNote, NoteDiagnosis, NoteFieldProvenance
from emr.models.observations import VITAL_LIMITS, Observation, VitalSign
from emr.models.patients import MRN_PREFIX, MRN_SEQUENCE, Patient, PatientMerge, PatientNameKey
from emr.models.terminology import Icd10Code

__all__ = [
    "MRN_PREFIX",
    "MRN_SEQUENCE",
    "VITAL_LIMITS",
    "Allergy",
    "BreakGlassAccess",
    "CareTeamMember",
    "ClinicalNote",
    "Condition",
    "Encounter",
    "Icd10Code",
    "MedicationOrder",
    "NoteDiagnosis",
    "NoteFieldProvenance",
    "Observation",
    "Patient",
    "PatientMerge",
    "PatientNameKey",
    "VitalSign",
]
