"""The evaluation's one table: every figure with the dataset split it came from, as Markdown or plain text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS = ("evaluation", "split", "item", "n", "metric", "value", "length ratio")


@dataclass
class Row:
    evaluation: str
    split: str
    item: str
    n: str
    metric: str
    value: str
    length_ratio: str = ""

    def cells(self) -> tuple[str, ...]:
        return (self.evaluation, self.split, self.item, self.n, self.metric, self.value, self.length_ratio)


def prf(precision: float, recall: float, f1: float) -> str:
    return f"{precision:.2f} / {recall:.2f} / {f1:.2f}"


def ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def render(rows: Sequence[Row], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |" for row in rows]
        return "\n".join(lines)
    widths = [
        max(len(COLUMNS[i]), *(len(row.cells()[i]) for row in rows)) if rows else len(COLUMNS[i])
        for i in range(len(COLUMNS))
    ]
    lines = ["  ".join(name.ljust(widths[i]) for i, name in enumerate(COLUMNS)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row.cells())).rstrip() for row in rows]
    return "\n".join(lines)
