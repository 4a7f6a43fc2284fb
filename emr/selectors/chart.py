"""The patient chart: everything the chart screen shows, assembled with a fixed number of queries.

The caller has already checked that the user may read the patient's clinical content
(emr.selectors.access.patient_for_clinical_read) and writes the access-log entry itself, naming
`ChartSummary.SECTIONS`. However long the record, the number of queries does not grow: every list is
limited and related rows are fetched with select_related / prefetch_related.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from emr.models import Allergy, ClinicalNote, Condition, Encounter, MedicationOrder, Observation, Patient
from emr.selectors.access import break_glass_active
from emr.selectors.clinical import active_allergies, active_problems, current_medications
from emr.selectors.notes import note_timeline
from emr.selectors.observations import lab_results, latest_vitals
from hospital.core.models import User

RECENT_ENCOUNTERS = 5
NOTES_SHOWN = 30
LABS_SHOWN = 40
# The graph shows the newest readings; 600 rows are about 100 full sets of six vital signs.
VITAL_READINGS_SHOWN = 600
VITAL_GRAPH_WINDOW = timedelta(days=14)

NUMERIC_VITALS = ("heart_rate", "respiratory_rate", "spo2", "temperature", "systolic_bp", "diastolic_bp")


@dataclass
class ChartSummary:
    """What the chart screen shows for one patient."""

    SECTIONS = ("problems", "medications", "allergies", "vitals", "labs", "encounters", "notes")

    patient: Patient
    problems: list[Condition] = field(default_factory=list)
    medications: list[MedicationOrder] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)
    latest_vitals: dict[str, Observation] = field(default_factory=dict)
    latest_vitals_at: datetime | None = None
    vital_readings: list[tuple[str, datetime, Decimal | None]] = field(default_factory=list)
    labs: list[Observation] = field(default_factory=list)
    encounters: list[Encounter] = field(default_factory=list)
    notes: list[ClinicalNote] = field(default_factory=list)
    break_glass_until: datetime | None = None

    @property
    def current_encounter(self) -> Encounter | None:
        """The newest encounter still in progress (new notes and vitals attach to it)."""
        return next((e for e in self.encounters if e.status == Encounter.Status.IN_PROGRESS), None)


def patient_chart(*, patient: Patient, user: User) -> ChartSummary:
    """The chart of `patient` as `user` sees it, in a fixed number of queries whatever the size of the record.

    Guarantees: active problems (ICD-10), active medication orders, active allergies, the latest reading
    of each vital sign, up to VITAL_READINGS_SHOWN numeric vital readings of the last VITAL_GRAPH_WINDOW
    before the latest one (oldest first, for the graph),
    the newest LABS_SHOWN lab results, RECENT_ENCOUNTERS encounters, NOTES_SHOWN notes (newest first:
    current signed versions and the user's own drafts, with their diagnoses), and the end of `user`'s
    unexpired break-the-glass grant, if any.
    Does not check access and does not log: the caller does both.
    """
    summary = ChartSummary(patient=patient)
    ids = [patient.pk]
    summary.problems = list(active_problems(patient=patient))
    summary.medications = list(current_medications(patient=patient))
    # The most dangerous allergy first; the choices are listed mildest first.
    severity_rank = {value: rank for rank, value in enumerate(Allergy.Severity.values)}
    summary.allergies = sorted(
        active_allergies(patient=patient), key=lambda allergy: -severity_rank.get(allergy.severity, 0)
    )
    summary.latest_vitals = latest_vitals(patient_ids=ids).get(patient.pk, {})
    summary.latest_vitals_at = max((o.effective_at for o in summary.latest_vitals.values()), default=None)
    # Only the newest readings are drawn, so a record with thousands of observations stays fast.
    since = summary.latest_vitals_at - VITAL_GRAPH_WINDOW if summary.latest_vitals_at else None
    newest_first = (
        Observation.objects.filter(
            patient=patient,
            category=Observation.Category.VITAL_SIGN,
            code__in=NUMERIC_VITALS,
            value_numeric__isnull=False,
            # The graph shows the recent course: a visit years ago would squeeze this week into a sliver.
            **({"effective_at__gte": since} if since else {}),
        )
        .order_by("-effective_at", "-id")
        .values_list("code", "effective_at", "value_numeric")[:VITAL_READINGS_SHOWN]
    )
    summary.vital_readings = list(reversed(newest_first))
    summary.labs = lab_results(patient_ids=ids, limit=LABS_SHOWN)
    summary.encounters = list(
        Encounter.objects.filter(patient=patient)
        .select_related("attending", "ward")
        .order_by("-started_at", "-id")[:RECENT_ENCOUNTERS]
    )
    summary.notes = note_timeline(patient_ids=ids, fetched_by=user, limit=NOTES_SHOWN)
    grant = break_glass_active(user=user, patient=patient)
    summary.break_glass_until = grant.expires_at if grant else None
    return summary
