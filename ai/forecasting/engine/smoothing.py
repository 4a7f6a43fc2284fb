"""Exponential smoothing with a level and a season, fitted and filtered in numpy: the networks' starting point.

The season is multiplicative (ETS(A,N,M)-like: a busy Monday is a share above the level, so it grows with
the level) for positive series, additive (ETS(A,N,A)) where the series has zeros. Unlike a statsforecast
fit, the filter gives the state at every past day, so the forecast that would have been made from each past
origin is available for every training window at no extra cost. The two smoothing weights are picked on
the history up to the origin only (one-step squared error over a grid, all candidates filtered at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHAS = np.array([0.02, 0.04, 0.06, 0.08, 0.1, 0.13, 0.17, 0.24, 0.33, 0.45, 0.6])
GAMMAS = np.array([0.0, 0.005, 0.01, 0.02, 0.04, 0.08])
SEASON_FLOOR = 0.05  # a multiplicative seasonal factor never drops below this


@dataclass
class SmoothingFit:
    season: int
    alpha: float
    gamma: float
    multiplicative: bool
    level: np.ndarray  # level after observing each position
    seasonal: np.ndarray  # seasonal state of the phase of each position, after observing it

    def forecast(self, origins: np.ndarray, horizon: int) -> np.ndarray:
        """F[i, h-1]: the forecast made at origins[i] (after its value) for origins[i] + h."""
        h = np.arange(1, horizon + 1)
        back = self.season * ((h - 1) // self.season + 1)
        idx = np.maximum(origins[:, None] + h[None, :] - back[None, :], 0)
        if self.multiplicative:
            return self.level[origins][:, None] * self.seasonal[idx]
        return self.level[origins][:, None] + self.seasonal[idx]

    def fitted(self) -> np.ndarray:
        """One-step forecasts of each position from the state before it (the first is the first value)."""
        n = len(self.level)
        out = np.empty(n)
        if n == 0:
            return out
        before = np.concatenate([np.full(self.season, 1.0 if self.multiplicative else 0.0), self.seasonal])[:n]
        out[0] = self.level[0]
        if self.multiplicative:
            out[1:] = self.level[:-1] * before[1:]
        else:
            out[1:] = self.level[:-1] + before[1:]
        return out


def _initial(y: np.ndarray, season: int, multiplicative: bool) -> tuple[float, np.ndarray]:
    cycles = max(1, min(4, len(y) // season))
    first = y[: cycles * season]
    if len(first) < season:
        return float(np.mean(y)) if len(y) else 0.0, np.full(season, 1.0 if multiplicative else 0.0)
    level = float(np.mean(first))
    profile = first.reshape(cycles, season).mean(axis=0)
    if multiplicative:
        return level, np.maximum(profile / max(level, 1e-9), SEASON_FLOOR)
    return level, profile - level


def _filter(
    y: np.ndarray, season: int, alphas: np.ndarray, gammas: np.ndarray, multiplicative: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the filter for k parameter pairs at once; returns levels (n, k), seasonals (n, k), sse (k,)."""
    n, k = len(y), len(alphas)
    level0, profile = _initial(y, season, multiplicative)
    level = np.full(k, level0)
    states = np.tile(profile[:, None], (1, k))  # seasonal state per phase
    levels = np.empty((n, k))
    seasonals = np.empty((n, k))
    sse = np.zeros(k)
    burn = min(season, n // 4)
    for t in range(n):
        phase = t % season
        s = states[phase]
        if multiplicative:
            error = y[t] - level * s
            new_level = alphas * (y[t] / s) + (1 - alphas) * level
            states[phase] = np.maximum(gammas * (y[t] / np.maximum(new_level, 1e-9)) + (1 - gammas) * s, SEASON_FLOOR)
        else:
            error = y[t] - level - s
            new_level = level + alphas * error
            states[phase] = s + gammas * error
        if t >= burn:
            sse += error * error
        level = new_level
        levels[t] = level
        seasonals[t] = states[phase]
    return levels, seasonals, sse


def fit_smoothing(y: np.ndarray, season: int) -> SmoothingFit:
    """The smoothing weights that minimise one-step squared error on `y`, and the filtered states."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) < 2 * season:
        season = 1
    multiplicative = season > 1 and len(y) > 0 and float(np.mean(y <= 0)) < 0.02 and float(np.min(y)) >= 0
    grid_a, grid_g = np.meshgrid(ALPHAS, GAMMAS if season > 1 else np.array([0.0]))
    alphas, gammas = grid_a.ravel(), grid_g.ravel()
    levels, seasonals, sse = _filter(y, season, alphas, gammas, multiplicative)
    best = int(np.argmin(sse))
    return SmoothingFit(
        season=season,
        alpha=float(alphas[best]),
        gamma=float(gammas[best]),
        multiplicative=multiplicative,
        level=levels[:, best].copy(),
        seasonal=seasonals[:, best].copy(),
    )
