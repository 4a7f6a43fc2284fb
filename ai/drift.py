"""Sustained change in a vital-sign series, beyond single readings: a robust CUSUM against the patient's own baseline.

Two uses of one detector (a cumulative sum of standardised deviations, Page's CUSUM):

- Charted vital signs (a reading every hour or few hours): `level_drift` compares each reading with the
  median of the patient's first readings in the window, in units of their robust spread (1.4826 x the
  median absolute deviation, never below a floor per vital sign, so a very steady baseline does not turn
  noise into alarms). Each standardised deviation is clipped to +-`clip` before it is summed, so one wild
  reading (a probe that slipped, a typo) adds at most clip - allowance and can never alarm on its own
  when that is below the threshold: only a run of readings away from the baseline does.
- Densely sampled monitor streams (a waveform or a beat-by-beat series): `stream_alarms` sums the clipped
  size of the one-step prediction error (the reading minus the straight-line continuation of the two
  before it), standardised by the same error on a stretch known to be normal; a run of erratic samples
  alarms, an isolated glitch does not. This is what finds the labelled anomaly of the KDD-TSAD 135
  internal-bleeding series that aeon ships (tests/ai/test_drift.py).

Pure functions on plain sequences of numbers: no database, no numpy, cheap to import in any process.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

UP = "up"
DOWN = "down"
MAD_TO_SD = 1.4826  # the MAD of a normal distribution times this is its standard deviation

# The smallest spread a patient's baseline is given, in the unit of the vital sign: about the change
# a repeated measurement shows anyway.
VITAL_SCALE_FLOORS: dict[str, float] = {
    "heart_rate": 5.0,
    "respiratory_rate": 2.0,
    "spo2": 1.5,
    "temperature": 0.3,
}
# The directions that are a deterioration worth an alert (a rising SpO2 is not).
VITAL_DIRECTIONS: dict[str, tuple[str, ...]] = {
    "heart_rate": (UP, DOWN),
    "respiratory_rate": (UP, DOWN),
    "spo2": (DOWN,),
    "temperature": (UP, DOWN),
}


@dataclass(frozen=True)
class Cusum:
    """The detector's three numbers, in standard deviations: `allowance` (k, the shift the sum ignores),
    `threshold` (h, the sum that alarms) and `clip` (the most one reading can contribute).

    The defaults for charted vital signs (k=1, h=6, clip=3, with a baseline of 6 readings) come from a
    simulation of 30-reading stays with noise as large as the scale floor: about 2 % of stable stays
    alarm at some point, a rise of 0.4 floor per reading is found after a median of 7 readings and a step of
    3 floors after 3 (tests/ai/test_drift.py); one reading however far off adds at most 2 and cannot alarm.
    """

    allowance: float = 1.0
    threshold: float = 6.0
    clip: float = 3.0

    def __post_init__(self) -> None:
        if not (self.allowance >= 0 and self.threshold > 0 and self.clip > 0):
            raise ValueError("CUSUM needs allowance >= 0, threshold > 0 and clip > 0")


# Settings for monitor streams: the size of an error is always positive (about 0.8 on average for normal
# noise), so the allowance sits well above that; the threshold asks for a run of several large errors.
STREAM_CUSUM = Cusum(allowance=1.5, threshold=12.0, clip=6.0)


@dataclass(frozen=True)
class Baseline:
    """A patient's own normal: the median of the reference readings and their robust spread."""

    centre: float
    scale: float


@dataclass(frozen=True)
class LevelDrift:
    """The outcome of `level_drift` over one series.

    `upper` and `lower` are the cumulative sums after the last reading (the evidence for a rise and for a
    fall); `direction` is UP or DOWN when that sum is above the threshold now (the drift is ongoing), else
    None; `onset` is the index of the first reading of the run that led there; `scores` are the
    standardised deviations of the readings after the baseline (unclipped).
    """

    baseline: Baseline
    upper: float
    lower: float
    direction: str | None
    onset: int | None
    scores: tuple[float, ...]


def robust_baseline(values: Sequence[float], *, scale_floor: float = 0.0) -> Baseline:
    """Median and robust standard deviation (1.4826 x MAD, at least `scale_floor`) of `values` (not empty)."""
    if not values:
        raise ValueError("a baseline needs at least one reading")
    centre = statistics.median(values)
    mad = statistics.median(abs(value - centre) for value in values)
    scale = max(MAD_TO_SD * mad, scale_floor)
    if scale <= 0:
        raise ValueError("the baseline has no spread; give a scale floor above zero")
    return Baseline(centre=float(centre), scale=float(scale))


def _clipped(value: float, clip: float) -> float:
    return max(-clip, min(clip, value))


def level_drift(
    values: Sequence[float],
    *,
    baseline_size: int = 6,
    scale_floor: float = 0.0,
    cusum: Cusum | None = None,
    directions: Sequence[str] = (UP, DOWN),
) -> LevelDrift | None:
    """Whether a charted series has drifted away from its first `baseline_size` readings and still is.

    Returns None when there are not more readings than the baseline needs. The two-sided CUSUM runs
    over the readings after the baseline; a direction not in `directions` never alarms. An alarm needs
    the sum above the threshold after the last reading: a drift that has since come back lets the sum
    fall under it again, one allowance per reading at the baseline.
    """
    cusum = cusum or Cusum()
    if baseline_size < 1 or len(values) <= baseline_size:
        return None
    baseline = robust_baseline([float(value) for value in values[:baseline_size]], scale_floor=scale_floor)
    scores = tuple((float(value) - baseline.centre) / baseline.scale for value in values[baseline_size:])
    upper = lower = 0.0
    upper_start = lower_start = None
    for index, score in enumerate(scores, start=baseline_size):
        step = _clipped(score, cusum.clip)
        upper = max(0.0, upper + step - cusum.allowance)
        lower = max(0.0, lower - step - cusum.allowance)
        upper_start = (upper_start if upper_start is not None else index) if upper > 0 else None
        lower_start = (lower_start if lower_start is not None else index) if lower > 0 else None
    candidates = []
    if UP in directions and upper > cusum.threshold:
        candidates.append((upper, UP, upper_start))
    if DOWN in directions and lower > cusum.threshold:
        candidates.append((lower, DOWN, lower_start))
    direction, onset = None, None
    if candidates:
        _sum, direction, onset = max(candidates, key=lambda candidate: candidate[0])
    return LevelDrift(baseline=baseline, upper=upper, lower=lower, direction=direction, onset=onset, scores=scores)


def prediction_errors(values: Sequence[float]) -> list[float]:
    """For each sample from the third on, the sample minus the straight-line continuation of the two before it
    (the second difference): near zero on a smooth signal, large where the signal turns erratic."""
    return [float(values[i]) - 2.0 * float(values[i - 1]) + float(values[i - 2]) for i in range(2, len(values))]


def stream_alarms(values: Sequence[float], *, reference: Sequence[float], cusum: Cusum = STREAM_CUSUM) -> list[int]:
    """Indices of `values` where a run of erratic samples alarms, for a densely sampled monitor stream.

    `reference` is a stretch of the same stream known to be normal (at least 10 samples): the size of its
    one-step prediction errors defines one standard deviation. The CUSUM of the clipped, standardised
    error sizes restarts after each alarm, so a long episode alarms again every few samples while it lasts.
    """
    reference_errors = prediction_errors(reference)
    if len(reference_errors) < 8:
        raise ValueError("the reference stretch needs at least 10 samples")
    baseline = robust_baseline(reference_errors, scale_floor=1e-9)
    alarms: list[int] = []
    total = 0.0
    for index, error in enumerate(prediction_errors(values), start=2):
        if math.isnan(error):
            continue
        size = min(abs(error - baseline.centre) / baseline.scale, cusum.clip)
        total = max(0.0, total + size - cusum.allowance)
        if total > cusum.threshold:
            alarms.append(index)
            total = 0.0
    return alarms
