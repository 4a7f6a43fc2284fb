"""Exponential smoothing with additive level and season, ETS(A,N,A), fitted and filtered in numpy.

The recurrent networks learn a correction to this forecast. Unlike a statsforecast fit, the filter gives the
state at every past day, so the forecast that would have been made from each past origin is available for
every training window at no extra cost. Its two smoothing weights are picked on the history up to the
origin only (one-step squared error over a grid, all candidates filtered at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHAS = np.array([0.02, 0.05, 0.08, 0.12, 0.17, 0.24, 0.33, 0.45, 0.6])
GAMMAS = np.array([0.0, 0.01, 0.03, 0.08])


@dataclass
class SmoothingFit:
    season: int
    alpha: float
    gamma: float
    level: np.ndarray  # level after observing each position
    seasonal: np.ndarray  # seasonal state of the phase of each position, after observing it

    def forecast(self, origins: np.ndarray, horizon: int) -> np.ndarray:
        """F[i, h-1]: the forecast made at origins[i] (after its value) for origins[i] + h."""
        h = np.arange(1, horizon + 1)
        back = self.season * ((h - 1) // self.season + 1)
        idx = origins[:, None] + h[None, :] - back[None, :]
        return self.level[origins][:, None] + self.seasonal[np.maximum(idx, 0)]


def _initial(y: np.ndarray, season: int) -> tuple[float, np.ndarray]:
    cycles = max(1, min(4, len(y) // season))
    first = y[: cycles * season]
    if len(first) < season:
        return float(np.mean(y)) if len(y) else 0.0, np.zeros(season)
    level = float(np.mean(first))
    profile = first.reshape(cycles, season).mean(axis=0) - level
    return level, profile


def _filter(y: np.ndarray, season: int, alphas: np.ndarray, gammas: np.ndarray) -> tuple[np.ndarray, ...]:
    """Run the filter for k parameter pairs at once; returns levels (n, k), seasonals (n, k), sse (k,)."""
    n, k = len(y), len(alphas)
    level0, profile = _initial(y, season)
    level = np.full(k, level0)
    states = np.tile(profile[:, None], (1, k))  # seasonal state per phase
    levels = np.empty((n, k))
    seasonals = np.empty((n, k))
    sse = np.zeros(k)
    burn = min(season, n // 4)
    for t in range(n):
        phase = t % season
        error = y[t] - level - states[phase]
        if t >= burn:
            sse += error * error
        level = level + alphas * error
        states[phase] = states[phase] + gammas * error
        levels[t] = level
        seasonals[t] = states[phase]
    return levels, seasonals, sse


def fit_smoothing(y: np.ndarray, season: int) -> SmoothingFit:
    """ETS(A,N,A) with the smoothing weights that minimise one-step squared error on `y`."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) < 2 * season:
        season = 1
    grid_a, grid_g = np.meshgrid(ALPHAS, GAMMAS if season > 1 else np.array([0.0]))
    alphas, gammas = grid_a.ravel(), grid_g.ravel()
    levels, seasonals, sse = _filter(y, season, alphas, gammas)
    best = int(np.argmin(sse))
    return SmoothingFit(
        season=season,
        alpha=float(alphas[best]),
        gamma=float(gammas[best]),
        level=levels[:, best].copy(),
        seasonal=seasonals[:, best].copy(),
    )
