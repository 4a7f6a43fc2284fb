"""The cross-ward bed plan: where each day's expected overflow should go, as a linear program (HiGHS).

For each day, every ward i expects at most D_i patients at midnight (the forecast's upper quantile,
rounded up) and has C_i beds, plus F_i flexible beds it could open (closed beds and a share of extra
beds). A ward whose D_i exceeds C_i overflows by D_i - C_i; a ward below capacity has C_i - D_i spare
beds it could lend. The program chooses, in whole patients (the constraint matrix is a transportation
problem, so HiGHS's vertex solution is integral):

    x_ij  patients of overflowing ward i placed in a bed lent by ward j
    f_i   flexible beds opened in ward i
    u_i   patients of ward i left without a bed

    minimise   U * sum u_i  +  sum c_ij x_ij  +  K * sum f_i
    subject to sum_j x_ij + f_i + u_i  = overflow_i      (every overflowing patient goes somewhere)
               sum_i x_ij             <= spare_j         (a ward lends only what it does not need)
               0 <= f_i <= F_i

with c_ij = 1 for a ward of the same specialty and 1 + P for another one (P, the cross-specialty penalty);
wards of an exclusive specialty (critical care, paediatrics, obstetrics) neither lend to nor borrow from
other specialties. U is far above every other cost, so the plan first minimises the expected unplaced
patients and only then the disruption. A tiny extra cost steers ties to the ward with more room to spare.
Days are planned independently: each is the census the forecast expects that night.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

UNPLACED_COST = 1000.0
TIE_BREAK = 0.01

LEND = "lend"
OPEN_FLEXIBLE = "open_flexible"
UNPLACED = "unplaced"


@dataclass(frozen=True)
class PlanWard:
    """One ward on one day, as the program sees it."""

    key: int
    code: str
    specialty: str
    capacity: int
    upper: float  # the forecast's upper quantile of the midnight census
    expected: float = 0.0  # the forecast's mean, for the explanations
    flexible: int = 0  # flexible beds it could open

    @property
    def demand(self) -> int:
        return max(math.ceil(self.upper - 1e-9), 0)

    @property
    def overflow(self) -> int:
        return max(self.demand - self.capacity, 0)

    @property
    def spare(self) -> int:
        return max(self.capacity - self.demand, 0)


@dataclass(frozen=True)
class Recommendation:
    action: str  # LEND, OPEN_FLEXIBLE or UNPLACED
    ward: int  # the overflowing ward
    patients: int
    to_ward: int | None = None
    same_specialty: bool | None = None


@dataclass(frozen=True)
class PlanCosts:
    cross_specialty_penalty: float = 5.0
    flexible_bed_cost: float = 3.0
    exclusive_specialties: tuple[str, ...] = ("critical_care", "paediatrics", "obstetrics")


def solve_day(wards: list[PlanWard], costs: PlanCosts | None = None) -> list[Recommendation]:
    """The day's recommendations, best first for each overflowing ward (lends, then flexible beds, then unplaced).

    Guarantees: every overflowing patient is in exactly one recommendation; no ward lends more than its
    spare beds or opens more than its flexible beds; the expected unplaced patients are the fewest possible.
    """
    import numpy as np
    from scipy.optimize import linprog  # only the job plans; pages only word the plan

    costs = costs or PlanCosts()
    sources = [ward for ward in wards if ward.overflow > 0]
    lenders = [ward for ward in wards if ward.spare > 0]
    if not sources:
        return []
    pairs = [
        (i, j)
        for i, source in enumerate(sources)
        for j, lender in enumerate(lenders)
        if lender.key != source.key and _may_lend(source, lender, costs)
    ]
    n_x, n_s = len(pairs), len(sources)
    # Variables: x (pairs), then f (per source), then u (per source).
    cost = np.zeros(n_x + 2 * n_s)
    for k, (i, j) in enumerate(pairs):
        lender = lenders[j]
        same = lender.specialty == sources[i].specialty
        cost[k] = (1.0 if same else 1.0 + costs.cross_specialty_penalty) + TIE_BREAK * (
            1 - lender.spare / max(lender.capacity, 1)
        )
    cost[n_x : n_x + n_s] = costs.flexible_bed_cost
    cost[n_x + n_s :] = UNPLACED_COST

    a_eq = np.zeros((n_s, n_x + 2 * n_s))
    for k, (i, _j) in enumerate(pairs):
        a_eq[i, k] = 1
    for i in range(n_s):
        a_eq[i, n_x + i] = 1
        a_eq[i, n_x + n_s + i] = 1
    b_eq = np.array([source.overflow for source in sources], dtype=float)

    a_ub = np.zeros((len(lenders), n_x + 2 * n_s))
    for k, (_i, j) in enumerate(pairs):
        a_ub[j, k] = 1
    b_ub = np.array([lender.spare for lender in lenders], dtype=float)

    bounds = [(0, None)] * n_x + [(0, source.flexible) for source in sources] + [(0, None)] * n_s
    result = linprog(
        cost,
        A_ub=a_ub if len(lenders) else None,
        b_ub=b_ub if len(lenders) else None,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
    )
    if result.status != 0:  # cannot happen (u makes every day feasible); kept as a plain error
        raise RuntimeError(f"bed plan: linprog failed: {result.message}")
    values = np.round(result.x).astype(int)

    recommendations: list[Recommendation] = []
    for i, source in enumerate(sources):
        lends = sorted(
            ((values[k], lenders[j]) for k, (si, j) in enumerate(pairs) if si == i and values[k] > 0),
            key=lambda item: (item[1].specialty != source.specialty, -item[0], item[1].code),
        )
        for patients, lender in lends:
            recommendations.append(
                Recommendation(LEND, source.key, int(patients), lender.key, lender.specialty == source.specialty)
            )
        if values[n_x + i] > 0:
            recommendations.append(Recommendation(OPEN_FLEXIBLE, source.key, int(values[n_x + i])))
        if values[n_x + n_s + i] > 0:
            recommendations.append(Recommendation(UNPLACED, source.key, int(values[n_x + n_s + i])))
    return recommendations


def _may_lend(source: PlanWard, lender: PlanWard, costs: PlanCosts) -> bool:
    if source.specialty == lender.specialty:
        return True
    exclusive = costs.exclusive_specialties
    return source.specialty not in exclusive and lender.specialty not in exclusive


def recommendation_detail(
    recommendation: Recommendation, wards: dict[int, PlanWard], *, quantile: float
) -> dict[str, Any]:
    """The numbers an explanation is written from (stored with the plan row as JSON)."""
    source = wards[recommendation.ward]
    detail: dict[str, Any] = {
        "ward_code": source.code,
        "expected": round(source.expected, 1),
        "upper": round(source.upper, 1),
        "capacity": source.capacity,
        "overflow": source.overflow,
        "quantile": quantile,
    }
    if recommendation.to_ward is not None:
        lender = wards[recommendation.to_ward]
        detail.update(
            to_ward_code=lender.code,
            to_upper=round(lender.upper, 1),
            to_capacity=lender.capacity,
            to_spare=lender.spare,
        )
    if recommendation.action == OPEN_FLEXIBLE:
        detail["flexible"] = source.flexible
    return detail


def _percent(quantile: float) -> str:
    return f"{quantile * 100:g}"


def explain(*, action: str, patients: int, same_specialty: bool | None, detail: dict[str, Any]) -> str:
    """The recommendation in words, in the active language, with its numbers."""
    numbers = {
        "patients": patients,
        "ward": detail.get("ward_code", ""),
        "to_ward": detail.get("to_ward_code", ""),
        "upper": detail.get("upper"),
        "expected": detail.get("expected"),
        "capacity": detail.get("capacity"),
        "overflow": detail.get("overflow"),
        "percent": _percent(float(detail.get("quantile") or 0.9)),
        "to_upper": detail.get("to_upper"),
        "to_capacity": detail.get("to_capacity"),
        "to_spare": detail.get("to_spare"),
        "flexible": detail.get("flexible"),
    }
    situation = (
        _(
            "%(ward)s expects %(expected)s patients at midnight and up to %(upper)s (%(percent)s%% upper bound) "
            "for %(capacity)s beds: %(overflow)s over."
        )
        % numbers
    )
    if action == LEND and same_specialty:
        advice = (
            ngettext(
                "Place %(patients)s patient in %(to_ward)s, a ward of the same specialty with %(to_spare)s beds to "
                "spare (up to %(to_upper)s of %(to_capacity)s beds in use).",
                "Place %(patients)s patients in %(to_ward)s, a ward of the same specialty with %(to_spare)s beds to "
                "spare (up to %(to_upper)s of %(to_capacity)s beds in use).",
                patients,
            )
            % numbers
        )
    elif action == LEND:
        advice = (
            ngettext(
                "Place %(patients)s patient in %(to_ward)s, a ward of another specialty with %(to_spare)s beds to "
                "spare, as no ward of the same specialty has room left; the home team keeps caring for them.",
                "Place %(patients)s patients in %(to_ward)s, a ward of another specialty with %(to_spare)s beds to "
                "spare, as no ward of the same specialty has room left; the home team keeps caring for them.",
                patients,
            )
            % numbers
        )
    elif action == OPEN_FLEXIBLE:
        advice = (
            ngettext(
                "Open %(patients)s flexible bed in %(ward)s (%(flexible)s available): no other suitable ward has "
                "room to spare.",
                "Open %(patients)s flexible beds in %(ward)s (%(flexible)s available): no other suitable ward has "
                "room to spare.",
                patients,
            )
            % numbers
        )
    else:
        advice = (
            ngettext(
                "%(patients)s patient would find no bed: every suitable ward is full and the flexible beds are used. "
                "Consider postponing elective admissions or early discharges.",
                "%(patients)s patients would find no bed: every suitable ward is full and the flexible beds are used. "
                "Consider postponing elective admissions or early discharges.",
                patients,
            )
            % numbers
        )
    return f"{situation} {advice}"
