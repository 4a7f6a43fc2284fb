"""The National Early Warning Score 2 (Royal College of Physicians, 2017), as pure functions.

Seven parameters each score 0-3 on the RCP chart; their sum (0-20) and whether any single parameter
scores 3 give the clinical risk and the response the RCP asks for. SpO2 is scored on scale 1, or on
scale 2 for patients a clinician has decided have hypercapnic respiratory failure (target 88-92 %):
on scale 2 readings of 93 % and above score only when the patient breathes supplemental oxygen.

A set missing any parameter is incomplete: it has no total and no risk, never a reassuring 0. The
scores of the parameters that are present are still given, so a page can show them.

Readings are compared the way the chart is read: respiration rate, SpO2, systolic pressure and pulse
are whole numbers (a decimal reading is rounded half up first), temperature has one decimal.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The parameters in the order of the RCP chart, named by emr.models.VitalSign codes.
RESPIRATORY_RATE = "respiratory_rate"
SPO2 = "spo2"
SUPPLEMENTAL_OXYGEN = "supplemental_oxygen"
SYSTOLIC_BP = "systolic_bp"
PULSE = "heart_rate"
CONSCIOUSNESS = "consciousness"
TEMPERATURE = "temperature"
PARAMETERS = (RESPIRATORY_RATE, SPO2, SUPPLEMENTAL_OXYGEN, SYSTOLIC_BP, PULSE, CONSCIOUSNESS, TEMPERATURE)

# Clinical risk bands.
RISK_LOW = "low"
RISK_LOW_MEDIUM = "low_medium"
RISK_MEDIUM = "medium"
RISK_HIGH = "high"

SCALE_1 = 1
SCALE_2 = 2

ACVPU_SCORES = {"A": 0, "C": 3, "V": 3, "P": 3, "U": 3}
MAX_TOTAL = 20

Number = Decimal | int | float | str


def _whole(value: Number) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def _tenths(value: Number) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def score_respiration_rate(rate: Number) -> int:
    """Breaths per minute: <=8: 3, 9-11: 1, 12-20: 0, 21-24: 2, >=25: 3."""
    value = _whole(rate)
    if value <= 8:
        return 3
    if value <= 11:
        return 1
    if value <= 20:
        return 0
    if value <= 24:
        return 2
    return 3


def score_spo2_scale_1(spo2: Number) -> int:
    """SpO2 % on scale 1: <=91: 3, 92-93: 2, 94-95: 1, >=96: 0 (oxygen or not)."""
    value = _whole(spo2)
    if value <= 91:
        return 3
    if value <= 93:
        return 2
    if value <= 95:
        return 1
    return 0


def score_spo2_scale_2(spo2: Number, *, on_oxygen: bool | None) -> int | None:
    """SpO2 % on scale 2 (hypercapnic respiratory failure, target 88-92 %).

    <=83: 3, 84-85: 2, 86-87: 1, 88-92: 0; at 93 and above 0 on air, and on oxygen 93-94: 1,
    95-96: 2, >=97: 3. None when the reading is 93 or more and it is unknown whether the patient is on
    oxygen: the score cannot be read off the chart then.
    """
    value = _whole(spo2)
    if value <= 83:
        return 3
    if value <= 85:
        return 2
    if value <= 87:
        return 1
    if value <= 92:
        return 0
    if on_oxygen is None:
        return None
    if not on_oxygen:
        return 0
    if value <= 94:
        return 1
    if value <= 96:
        return 2
    return 3


def score_air_or_oxygen(on_oxygen: bool) -> int:
    """Supplemental oxygen: 2, air: 0."""
    return 2 if on_oxygen else 0


def score_systolic_bp(systolic: Number) -> int:
    """Systolic blood pressure mmHg: <=90: 3, 91-100: 2, 101-110: 1, 111-219: 0, >=220: 3."""
    value = _whole(systolic)
    if value <= 90:
        return 3
    if value <= 100:
        return 2
    if value <= 110:
        return 1
    if value <= 219:
        return 0
    return 3


def score_pulse(pulse: Number) -> int:
    """Pulse per minute: <=40: 3, 41-50: 1, 51-90: 0, 91-110: 1, 111-130: 2, >=131: 3."""
    value = _whole(pulse)
    if value <= 40:
        return 3
    if value <= 50:
        return 1
    if value <= 90:
        return 0
    if value <= 110:
        return 1
    if value <= 130:
        return 2
    return 3


def score_consciousness(level: str) -> int:
    """ACVPU: alert 0; new confusion, voice, pain or unresponsive 3. ValueError for anything else."""
    letter = (level or "").strip().upper()
    if letter not in ACVPU_SCORES:
        raise ValueError(f"consciousness must be one of A, C, V, P, U, not {level!r}")
    return ACVPU_SCORES[letter]


def score_temperature(celsius: Number) -> int:
    """Temperature °C: <=35.0: 3, 35.1-36.0: 1, 36.1-38.0: 0, 38.1-39.0: 1, >=39.1: 2."""
    value = _tenths(celsius)
    if value <= Decimal("35.0"):
        return 3
    if value <= Decimal("36.0"):
        return 1
    if value <= Decimal("38.0"):
        return 0
    if value <= Decimal("39.0"):
        return 1
    return 2


def clinical_risk(total: int, scores: dict[str, int]) -> str:
    """The RCP clinical risk of a complete set: 7+ high, 5-6 medium, a 3 in any one parameter low-medium,
    else low."""
    if total >= 7:
        return RISK_HIGH
    if total >= 5:
        return RISK_MEDIUM
    if any(score == 3 for score in scores.values()):
        return RISK_LOW_MEDIUM
    return RISK_LOW


@dataclass(frozen=True)
class Response:
    """What the RCP chart asks for at a risk band: the minimum monitoring frequency and the clinical response."""

    monitoring: Promise
    response: Promise


# RCP 2017, chart 2 (NEWS thresholds and triggers) and chart 3 (clinical response).
RESPONSES: dict[str, Response] = {
    RISK_LOW: Response(
        _("Minimum every 4-6 hours (every 12 hours at a score of 0)"),
        _("Ward-based response: a registered nurse assesses the patient and decides on the monitoring."),
    ),
    RISK_LOW_MEDIUM: Response(
        _("Minimum every hour"),
        _("Urgent ward-based response: a registered nurse informs the medical team, who review the patient."),
    ),
    RISK_MEDIUM: Response(
        _("Minimum every hour"),
        _(
            "Key threshold for an urgent response: the medical team reviews the patient at once; consider "
            "the critical care outreach team."
        ),
    ),
    RISK_HIGH: Response(
        _("Continuous monitoring of the vital signs"),
        _(
            "Emergency response: immediate assessment by a team with critical care skills, including airway "
            "management; consider transfer to a higher level of care."
        ),
    ),
}


@dataclass(frozen=True)
class News2Result:
    """A scored set: `scores` holds every parameter that could be scored; `total` and `risk` are None
    unless the set is complete."""

    complete: bool
    total: int | None
    scores: dict[str, int]
    missing: tuple[str, ...]
    spo2_scale: int
    risk: str | None

    @property
    def response(self) -> Response | None:
        return RESPONSES[self.risk] if self.risk else None


def news2_score(
    *,
    respiratory_rate: Number | None = None,
    spo2: Number | None = None,
    on_oxygen: bool | None = None,
    systolic_bp: Number | None = None,
    pulse: Number | None = None,
    consciousness: str | None = None,
    temperature: Number | None = None,
    spo2_scale: int = SCALE_1,
) -> News2Result:
    """Score one set of observations on the NEWS2 chart (None: not measured).

    The set is complete only when all seven parameters are given; otherwise `missing` names the
    absent ones (in chart order) and there is no total and no risk.
    """
    if spo2_scale not in (SCALE_1, SCALE_2):
        raise ValueError(f"spo2_scale must be 1 or 2, not {spo2_scale!r}")
    given = {
        RESPIRATORY_RATE: respiratory_rate,
        SPO2: spo2,
        SUPPLEMENTAL_OXYGEN: on_oxygen,
        SYSTOLIC_BP: systolic_bp,
        PULSE: pulse,
        CONSCIOUSNESS: consciousness if consciousness != "" else None,
        TEMPERATURE: temperature,
    }
    missing = tuple(name for name in PARAMETERS if given[name] is None)
    scores: dict[str, int] = {}
    if respiratory_rate is not None:
        scores[RESPIRATORY_RATE] = score_respiration_rate(respiratory_rate)
    if spo2 is not None:
        spo2_points = (
            score_spo2_scale_2(spo2, on_oxygen=on_oxygen) if spo2_scale == SCALE_2 else score_spo2_scale_1(spo2)
        )
        if spo2_points is not None:
            scores[SPO2] = spo2_points
    if on_oxygen is not None:
        scores[SUPPLEMENTAL_OXYGEN] = score_air_or_oxygen(on_oxygen)
    if systolic_bp is not None:
        scores[SYSTOLIC_BP] = score_systolic_bp(systolic_bp)
    if pulse is not None:
        scores[PULSE] = score_pulse(pulse)
    if given[CONSCIOUSNESS] is not None:
        scores[CONSCIOUSNESS] = score_consciousness(str(consciousness))
    if temperature is not None:
        scores[TEMPERATURE] = score_temperature(temperature)
    if missing:
        return News2Result(complete=False, total=None, scores=scores, missing=missing, spo2_scale=spo2_scale, risk=None)
    total = sum(scores.values())
    return News2Result(
        complete=True,
        total=total,
        scores=scores,
        missing=(),
        spo2_scale=spo2_scale,
        risk=clinical_risk(total, scores),
    )
