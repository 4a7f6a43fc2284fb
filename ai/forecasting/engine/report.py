"""The backtest as one table (plain text or Markdown), with the bootstrap intervals and the model that serves."""

from __future__ import annotations

import math

from .models import BASELINES, LABELS, RECURRENT
from .types import BacktestResult


def display_horizons(horizon: int) -> list[int]:
    picked = [1, 7, 14] if horizon >= 14 else [1, max(1, math.ceil(horizon / 2)), horizon]
    return sorted(set(picked))


def _num(value: float, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _cells(values: list[float], overall: float, horizons: list[int], digits: int = 1) -> str:
    return " / ".join([*(_num(values[h - 1], digits) for h in horizons), _num(overall, digits)])


def format_table(result: BacktestResult, *, markdown: bool = False, title: str | None = None) -> str:
    """One row per model; each metric cell reads "h1 / h7 / h14 / all horizons"."""
    horizons = display_horizons(result.horizon)
    span = f"1-{result.horizon}"
    group = " / ".join([*(f"h{h}" for h in horizons), span])
    header = [
        "Model",
        f"MAE ({group})",
        "sMAPE %",
        "MASE",
        "80% coverage",
        "95% coverage",
        "Bias",
        "MAE vs best baseline (95% CI)",
        "Train s/origin",
    ]
    rows: list[list[str]] = []
    order = [m for m in (*BASELINES, *RECURRENT) if m in result.scores]
    for model in order:
        score = result.scores[model]
        extra = score.extra
        name = model + (" *" if model == result.winner else "")
        if model == result.best_baseline:
            versus = "best baseline"
        elif model in result.bootstrap_vs_best:
            low, high = result.bootstrap_vs_best[model]
            versus = f"{extra.get('relative_to_best', 0) * 100:+.1f}% [{low * 100:+.1f}, {high * 100:+.1f}]"
        else:
            versus = "-"
        seconds = _num(score.train_seconds, 2)
        rows.append(
            [
                name,
                _cells(score.mae, score.mae_overall, horizons),
                _cells(score.smape, extra.get("smape_overall", float("nan")), horizons),
                _cells(score.mase, score.mase_overall, horizons, 2),
                _cells(score.coverage80, extra.get("coverage80_overall", float("nan")), horizons, 0),
                _cells(score.coverage95, extra.get("coverage95_overall", float("nan")), horizons, 0),
                _num(extra.get("bias_overall", float("nan")), 2),
                versus,
                seconds,
            ]
        )
    lines: list[str] = []
    if title:
        lines += [f"### {title}" if markdown else title, ""]
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    lines += _footer(result, markdown)
    return "\n".join(lines)


def _footer(result: BacktestResult, markdown: bool) -> list[str]:
    bullet = "- " if markdown else "  "
    first, last = result.origins[0], result.origins[-1]
    keys = result.details.get("keys", [])
    freq = result.details.get("freq", "D")
    unit = "month" if freq == "M" else "day"
    out = [
        f"{bullet}{len(result.origins)} origins from {first.isoformat()} to {last.isoformat()}, horizons 1-"
        f"{result.horizon} ({unit}s), {len(keys)} series; expanding window, only what is known at each origin.",
        f"{bullet}Coverage: share of actual values inside the 80% and 95% prediction intervals (nominal 80 and 95)."
        " Bias: forecast minus actual. MASE: MAE over the in-sample MAE of the seasonal naive forecast.",
        f"{bullet}MAE vs best baseline: relative difference in MAE against {LABELS[result.best_baseline]} "
        "(negative = better), with a paired bootstrap 95% interval over origins.",
    ]
    for model in RECURRENT:
        score = result.scores.get(model)
        if score and score.extra.get("seed_mae"):
            seed_mae = score.extra["seed_mae"]
            what = (
                f"the average of GRU, LSTM and LightGBM, the networks with {len(seed_mae)} seeds each; with one "
                "seed of each network, MAE "
                if model == "ensemble"
                else f"an ensemble of {len(seed_mae)} seeds; single seeds' MAE "
            )
            out.append(
                f"{bullet}{model}: {what}"
                + ", ".join(f"{v:.2f}" for v in seed_mae)
                + f" (sd {score.extra.get('seed_mae_sd', 0):.2f})."
            )
    out.append(f"{bullet}Serves (*): {result.reason}")
    out += [f"{bullet}Note: {note}" for note in result.notes]
    return out


def averages_table(result: BacktestResult, averages: list[list[str]], *, markdown: bool = False) -> str:
    """Plain averages of some models' backtest forecasts (e.g. ["gru", "lightgbm"]), each scored like a model:
    MAE over all horizons, and the paired bootstrap against the best baseline and against LightGBM. Read off
    the backtest's stored forecasts: nothing is fitted again."""
    import numpy as np

    from .metrics import paired_bootstrap

    points, actual = result.details["points"], result.details["actual"]
    n_origins = len(result.origins)
    references = list(dict.fromkeys([result.best_baseline, *(["lightgbm"] if "lightgbm" in points else [])]))

    def versus(errors: np.ndarray, reference: str) -> str:
        base = np.abs(points[reference] - actual).reshape(n_origins, -1)
        estimate, low, high = paired_bootstrap(errors.reshape(n_origins, -1), base, seed=0)
        return f"{estimate * 100:+.1f}% [{low * 100:+.1f}, {high * 100:+.1f}]"

    header = ["average of", "MAE", *(f"vs {LABELS[r]} (95% CI)" for r in references)]
    rows = []
    for members in averages:
        missing = [m for m in members if m not in points]
        if missing:
            raise ValueError(f"not in the backtest: {', '.join(missing)}")
        errors = np.abs(np.mean([points[m] for m in members], axis=0) - actual)
        rows.append([" + ".join(members), _num(float(np.nanmean(errors)), 2), *(versus(errors, r) for r in references)])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
        return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)]) + "\n"
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out) + "\n"
