"""Critical (panic) limits of common laboratory tests: values the laboratory telephones to the ward at once.

A result below `low` is flagged LL, above `high` HH, whatever the reference range says; inside the
critical limits the reference range decides between L, N and H. Limits depend on the unit, so each
entry names the unit it applies to: a result in another unit gets no critical flag rather than a
wrong one. Tests are found by their LOINC code or by the short code laboratory systems commonly send.

The figures are common adult critical limits (e.g. the College of American Pathologists' surveys and
typical hospital laboratory handbooks); a hospital whose laboratory uses other limits edits this table.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CriticalLimit:
    """Critical limits of one test in one unit (None: no critical limit on that side)."""

    test: str
    unit: str
    low: Decimal | None
    high: Decimal | None


# (codes the test is known by, limits in each unit it is reported in)
_TABLE: tuple[tuple[tuple[str, ...], tuple[CriticalLimit, ...]], ...] = (
    (
        ("2823-3", "6298-4", "K", "POTASSIUM"),
        (CriticalLimit("potassium", "mmol/L", Decimal("2.8"), Decimal("6.2")),),
    ),
    (
        ("2951-2", "2947-0", "NA", "SODIUM"),
        (CriticalLimit("sodium", "mmol/L", Decimal("120"), Decimal("160")),),
    ),
    (
        ("2345-7", "2339-0", "GLU", "GLUCOSE"),
        (
            CriticalLimit("glucose", "mmol/L", Decimal("2.8"), Decimal("25")),
            CriticalLimit("glucose", "mg/dL", Decimal("50"), Decimal("450")),
        ),
    ),
    (
        ("718-7", "HGB", "HB", "HAEMOGLOBIN", "HEMOGLOBIN"),
        (
            CriticalLimit("haemoglobin", "g/L", Decimal("70"), Decimal("200")),
            CriticalLimit("haemoglobin", "g/dL", Decimal("7"), Decimal("20")),
        ),
    ),
    (
        ("777-3", "26515-7", "PLT", "PLATELETS"),
        (CriticalLimit("platelets", "10^9/L", Decimal("20"), Decimal("1000")),),
    ),
    (
        ("6690-2", "26464-8", "WBC"),
        (CriticalLimit("white cell count", "10^9/L", Decimal("1.0"), Decimal("50")),),
    ),
    (
        ("2160-0", "CREA", "CREAT", "CREATININE"),
        (
            CriticalLimit("creatinine", "umol/L", None, Decimal("654")),
            CriticalLimit("creatinine", "mg/dL", None, Decimal("7.4")),
        ),
    ),
    (
        # High-sensitivity troponin T: above the 0 h rule-in level of the ESC 0/1 h algorithm.
        ("67151-1", "TNT", "HSTNT"),
        (CriticalLimit("troponin T (high-sensitivity)", "ng/L", None, Decimal("52")),),
    ),
    (
        # High-sensitivity troponin I: above the 0 h rule-in level of the ESC 0/1 h algorithm (Architect assay).
        ("89579-7", "TNI", "HSTNI"),
        (CriticalLimit("troponin I (high-sensitivity)", "ng/L", None, Decimal("64")),),
    ),
    (
        ("17861-6", "CA", "CALCIUM"),
        (
            CriticalLimit("calcium", "mmol/L", Decimal("1.65"), Decimal("3.25")),
            CriticalLimit("calcium", "mg/dL", Decimal("6.6"), Decimal("13")),
        ),
    ),
    (
        ("2524-7", "32693-4", "LAC", "LACTATE"),
        (CriticalLimit("lactate", "mmol/L", None, Decimal("4.0")),),
    ),
    (
        ("6301-6", "34714-6", "INR"),
        (CriticalLimit("INR", "", None, Decimal("5.0")),),
    ),
)

_UNIT_SPELLINGS = {"μ": "u", "µ": "u", "*": "^", "x10": "10", "×10": "10", "{ratio}": "", "ratio": ""}


def normalize_unit(unit: str) -> str:
    """A unit in one comparable spelling: case-folded, no spaces, µ as u, 10*9 and x10^9 as 10^9."""
    text = (unit or "").strip().replace(" ", "")
    for spelling, canonical in _UNIT_SPELLINGS.items():
        text = text.replace(spelling, canonical)
    return text.casefold()


CRITICAL_LIMITS: dict[tuple[str, str], CriticalLimit] = {
    (code.casefold(), normalize_unit(limit.unit)): limit
    for codes, limits in _TABLE
    for code in codes
    for limit in limits
}


def critical_limit(code: str, unit: str) -> CriticalLimit | None:
    """The critical limits of the test with this code reported in this unit, or None if there are none."""
    return CRITICAL_LIMITS.get(((code or "").strip().casefold(), normalize_unit(unit)))
