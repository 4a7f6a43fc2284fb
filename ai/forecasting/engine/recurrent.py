"""GRU and LSTM forecasters (PyTorch): an encoder reads the last weeks, a decoder walks the days ahead.

Each training example is one past origin: the encoder reads the last `window` days scaled by the trailing
28-day level at that origin (so wards of 5 and 50 beds look alike, and a network trained on last winter
still fits this spring), with the day's calendar and known-ahead features. The decoder steps through the
`horizon` days ahead with what is known about them: weekday, public holidays and their distance, day of
year, known-ahead values (booked admissions, planned discharges), the value on the same weekday over the
last four weeks and a year earlier. For each day it outputs five quantiles (2.5, 10, 50, 90, 97.5%) as a
correction to the four-week same-weekday mean, trained with the pinball (quantile) loss: the median is the
point forecast and the others give the 80% and 95% intervals.

One network is trained on all the series given (a global model) with a learned embedding per series;
`scope="per_series"` trains one network per series instead. Several seeds are trained and averaged.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from .baselines import Task
from .calendar import HolidayCalendar
from .features import calendar_matrix, dates_between, known_is_flag, known_matrix, season_length, trailing_level
from .smoothing import fit_smoothing
from .types import QUANTILES


@dataclass
class RecurrentOptions:
    hidden: int = 16
    window: int = 28  # days the encoder reads (monthly: months)
    epochs: int = 30  # passes over the windows when training from scratch
    finetune_epochs: int = 3  # when starting from a previous artifact's weights
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    dropout: float = 0.2
    level_window: int = 28  # trailing mean the inputs and outputs are scaled by (monthly: 12)
    embedding: int = 4  # per-series embedding width of a global model
    scope: str = "global"  # "global": one network for all series; "per_series": one each
    half_life: float = 730.0  # older windows weigh less: half weight after this many days
    max_windows: int = 6000  # windows per epoch; with more, each epoch samples this many (recent ones likelier)
    prior: str = "blend"  # the starting forecast: "smoothing", or "blend" (its mean with level x weekday profile)
    median_weight: float = 1.0  # extra weight of the absolute error of the median in the loss
    threads: int = 1
    # start from `init`'s weights and train finetune_epochs only. Off by default: fine-tuning week after week
    # on the UIHC backtest lost 3% MAE against training from scratch (docs/forecasting.md)
    warm_start: bool = False

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> RecurrentOptions:
        names = {f.name for f in fields(cls)}
        unknown = set(values or {}) - names
        if unknown:
            raise ValueError(f"unknown recurrent option(s): {', '.join(sorted(unknown))}")
        opts = cls(**(values or {}))
        if opts.scope not in ("global", "per_series"):
            raise ValueError(f"scope must be 'global' or 'per_series', not {opts.scope!r}")
        if opts.prior not in ("smoothing", "blend"):
            raise ValueError(f"prior must be 'smoothing' or 'blend', not {opts.prior!r}")
        return opts


N_QUANTILES = len(QUANTILES)


def _build_net(
    cell: str, n_enc: int, n_dec: int, n_static: int, n_series: int, opts: RecurrentOptions, widths: np.ndarray
) -> Any:
    import torch
    from torch import nn

    rnn = nn.GRU if cell == "gru" else nn.LSTM

    class Seq2Seq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell = cell
            self.embed = nn.Embedding(max(n_series, 1), opts.embedding)
            self.encoder = rnn(n_enc, opts.hidden, batch_first=True)
            self.bridge = nn.Linear(opts.hidden + n_static + opts.embedding, opts.hidden)
            self.decoder = rnn(n_dec, opts.hidden, batch_first=True)
            self.drop = nn.Dropout(opts.dropout)
            self.head = nn.Sequential(
                nn.Linear(opts.hidden + n_dec, opts.hidden), nn.ReLU(), nn.Linear(opts.hidden, N_QUANTILES)
            )
            # start as the smoothing forecast with its past error spread; the network learns the corrections
            last: Any = self.head[-1]
            nn.init.zeros_(last.weight)
            with torch.no_grad():
                last.bias.copy_(torch.tensor([0.0, *np.log(np.expm1(np.maximum(widths, 1e-4)))], dtype=torch.float32))

        def forward(self, enc: Any, dec: Any, static: Any, series: Any, prior: Any) -> Any:
            _, state = self.encoder(enc)
            h = state[0] if isinstance(state, tuple) else state
            context = torch.cat([h[-1], static, self.embed(series)], dim=-1)
            h0 = torch.tanh(self.bridge(self.drop(context))).unsqueeze(0)
            init = (h0, torch.zeros_like(h0)) if isinstance(state, tuple) else h0
            out, _ = self.decoder(dec, init)
            raw = self.head(torch.cat([self.drop(out), dec], dim=-1))
            median = prior + raw[..., 0]
            softplus = nn.functional.softplus
            q10 = median - softplus(raw[..., 1])
            q025 = q10 - softplus(raw[..., 2])
            q90 = median + softplus(raw[..., 3])
            q975 = q90 + softplus(raw[..., 4])
            return torch.stack([q025, q10, median, q90, q975], dim=-1)

    return Seq2Seq()


@dataclass
class _Windows:
    enc: np.ndarray  # (n, window, n_enc)
    dec: np.ndarray  # (n, horizon, n_dec)
    static: np.ndarray  # (n, n_static)
    series: np.ndarray  # (n,) series index
    prior: np.ndarray  # (n, horizon) same-weekday mean / level
    target: np.ndarray  # (n, horizon) value / level, NaN where not observed yet
    weight: np.ndarray  # (n,)
    level: np.ndarray  # (n,)


def _windows(
    task: Task,
    series_index: int,
    horizon: int,
    calendar: HolidayCalendar,
    opts: RecurrentOptions,
    origins: np.ndarray | None,
) -> _Windows:
    """Examples for every origin in `origins` (default: all past origins with one observed target day, and the
    task's origin itself last). Values are read up to the task's origin only."""
    s, t = task.series, task.origin
    freq = s.freq
    season = season_length(s)
    y = np.asarray(s.values[: t + 1], dtype=np.float64)
    level_window = opts.level_window if freq == "D" else 12
    window = opts.window if freq == "D" else min(opts.window, 24)
    year = 364 if freq == "D" else 12
    level = trailing_level(y, level_window)
    level_week = trailing_level(y, season)
    level_long = trailing_level(y, 4 * level_window)
    smoothing = fit_smoothing(y, season)
    n_total = t + 1 + horizon
    cal = calendar_matrix(dates_between(s, 0, n_total), calendar, freq)
    known = known_matrix(s, 0, n_total)
    flags = known_is_flag(s)
    if origins is None:
        first = min(max(window - 1, 2 * season), t)
        origins = np.arange(first, t + 1)
    o = origins
    lvl = level[o]

    # encoder: scaled values, a "padded" flag for days before the series began, calendar and known features
    enc_idx = o[:, None] - np.arange(window - 1, -1, -1)[None, :]
    padded = enc_idx < 0
    enc_vals = np.where(padded, 1.0, y[np.maximum(enc_idx, 0)] / lvl[:, None])
    enc_known = known[np.maximum(enc_idx, 0)].astype(np.float64)
    if enc_known.shape[-1]:
        enc_known[..., ~flags] /= lvl[:, None, None]
    # one-step errors of the smoothing: a level shift shows here before the smoothed level catches up
    fitted = smoothing.fitted()
    surprise = np.where(padded, 0.0, (y - fitted)[np.maximum(enc_idx, 0)] / lvl[:, None])
    enc = np.concatenate(
        [
            enc_vals[..., None] - 1.0,
            surprise[..., None],
            padded[..., None].astype(np.float64),
            cal[np.maximum(enc_idx, 0)],
            enc_known,
        ],
        axis=-1,
    )

    # decoder: what is known about each day ahead
    h = np.arange(1, horizon + 1)
    target_idx = o[:, None] + h[None, :]
    cycles = (h - 1) // season + 1
    same = np.stack([y[np.maximum(target_idx - season * (cycles + k), 0)] for k in range(4)], axis=-1)
    same_mean = same.mean(axis=-1) / lvl[:, None]
    profile_long = _profile_ratio(y, o, target_idx, season, 104)
    profile_short = _profile_ratio(y, o, target_idx, season, 13)
    smoothed = np.maximum(smoothing.forecast(o, horizon), 0.0) / lvl[:, None]
    # the starting forecast: smoothing, or its mean with "level x two-year weekday profile" (each misses some
    # of what the other catches; their mean does better than either, see docs/forecasting.md)
    prior = 0.5 * (smoothed + profile_long) if opts.prior == "blend" else smoothed
    last_year_idx = target_idx - year
    has_year = last_year_idx >= 0
    last_year = np.where(has_year, y[np.maximum(last_year_idx, 0)] / lvl[:, None], prior)
    # how the level moved a year earlier between the same two points of the year (seasonal swing)
    shifts = []
    for years in (1, 2):
        back = year * years
        around = _window_mean(y, target_idx - back, 3 if freq == "D" else 0)
        before = _window_mean(y, o[:, None] - back, level_window // 2, right=0)
        ok = (o[:, None] - back - level_window // 2 >= 0) & np.isfinite(around) & (before > 0)
        shifts.append(np.where(ok, around / np.where(before > 0, before, 1.0) - 1.0, np.nan))
    stacked_shift = np.stack(shifts, axis=-1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        seasonal_shift = np.where(np.isnan(stacked_shift).all(axis=-1), 0.0, np.nanmean(stacked_shift, axis=-1))
    dec_known = known[target_idx].astype(np.float64)
    if dec_known.shape[-1]:
        dec_known[..., ~flags] /= lvl[:, None, None]
    dec = np.concatenate(
        [
            prior[..., None] - 1.0,
            smoothed[..., None] - 1.0,
            same_mean[..., None] - 1.0,
            profile_long[..., None] - 1.0,
            profile_short[..., None] - 1.0,
            same[..., 0:1] / lvl[:, None, None] - 1.0,
            last_year[..., None] - 1.0,
            has_year[..., None].astype(np.float64),
            seasonal_shift[..., None],
            np.broadcast_to((h / horizon)[None, :, None], (len(o), horizon, 1)),
            cal[target_idx],
            dec_known,
        ],
        axis=-1,
    )

    static = np.column_stack(
        [
            np.log1p(lvl) / 5.0,
            level_week[o] / lvl - 1.0,
            lvl / level_long[o] - 1.0,
        ]
    )
    target = np.where(target_idx <= t, y[np.minimum(target_idx, t)] / lvl[:, None], np.nan)
    age = (t - o).astype(np.float64) * (30.4 if freq == "M" else 1.0)
    weight = 0.5 ** (age / opts.half_life)
    return _Windows(
        enc=enc.astype(np.float32),
        dec=dec.astype(np.float32),
        static=static.astype(np.float32),
        series=np.full(len(o), series_index, dtype=np.int64),
        prior=prior.astype(np.float32),
        target=target.astype(np.float32),
        weight=weight.astype(np.float32),
        level=lvl,
    )


def _profile_ratio(y: np.ndarray, origins: np.ndarray, targets: np.ndarray, season: int, cycles: int) -> np.ndarray:
    """Mean of the target's phase (weekday) over the last `cycles` seasons up to each origin, relative to the
    mean of all days in that span: how much busier than average that weekday has been."""
    n = len(y)
    phase = np.arange(n) % season
    start = np.maximum(origins - cycles * season + 1, 0)
    csum = np.concatenate([[0.0], np.cumsum(y)])
    total = (csum[origins + 1] - csum[start]) / (origins + 1 - start)
    out = np.ones(targets.shape)
    for p in range(season):
        mask = (phase == p).astype(np.float64)
        c_val = np.concatenate([[0.0], np.cumsum(y * mask)])
        c_cnt = np.concatenate([[0.0], np.cumsum(mask)])
        count = c_cnt[origins + 1] - c_cnt[start]
        mean_p = np.where(count > 0, (c_val[origins + 1] - c_val[start]) / np.maximum(count, 1), total)
        ratio = np.where(total > 0, mean_p / np.where(total > 0, total, 1.0), 1.0)
        hit = (targets % season) == p
        out = np.where(hit, ratio[:, None], out)
    return out


def _window_mean(y: np.ndarray, centre: np.ndarray, left: int, right: int | None = None) -> np.ndarray:
    """Mean of y[centre-left .. centre+right] (right defaults to left), NaN where it runs off either end."""
    right = left if right is None else right
    csum = np.concatenate([[0.0], np.cumsum(y)])
    lo, hi = centre - left, centre + right + 1
    ok = (lo >= 0) & (hi <= len(y))
    total = csum[np.clip(hi, 0, len(y))] - csum[np.clip(lo, 0, len(y))]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, total / (left + right + 1), np.nan)


def _concat(parts: list[_Windows]) -> _Windows:
    return _Windows(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Windows)))


def _take(w: _Windows, keep: np.ndarray) -> _Windows:
    return _Windows(*(getattr(w, f.name)[keep] for f in fields(_Windows)))


def _train_member(net: Any, data: _Windows, epochs: int, opts: RecurrentOptions, seed: int) -> Any:
    import torch

    generator = torch.Generator().manual_seed(seed)
    tensors = {f.name: torch.from_numpy(np.ascontiguousarray(getattr(data, f.name))) for f in fields(_Windows)}
    target = tensors["target"]
    mask = ~torch.isnan(target)
    target = torch.nan_to_num(target)
    q = torch.tensor(QUANTILES, dtype=torch.float32)
    optimizer = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    n = len(target)
    # Many windows (a global model over many wards): each epoch is a fresh sample of max_windows of them,
    # drawn in proportion to their recency weights, which then weigh equally in the loss.
    sampled = n > opts.max_windows
    per_epoch = min(n, opts.max_windows)
    probabilities = data.weight / data.weight.sum() if sampled else None
    weights = torch.ones(n) if sampled else tensors["weight"]
    rng = np.random.default_rng(seed)
    steps_per_epoch = max(1, math.ceil(per_epoch / opts.batch_size))
    total = max(1, epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=opts.lr, total_steps=total, pct_start=0.2)
    net.train()
    for _ in range(epochs):
        if sampled:
            order = torch.from_numpy(rng.choice(n, size=per_epoch, replace=False, p=probabilities))
        else:
            order = torch.randperm(n, generator=generator)
        for start in range(0, per_epoch, opts.batch_size):
            b = order[start : start + opts.batch_size]
            pred = net(
                tensors["enc"][b], tensors["dec"][b], tensors["static"][b], tensors["series"][b], tensors["prior"][b]
            )
            err = target[b].unsqueeze(-1) - pred
            pinball = torch.maximum(q * err, (q - 1) * err)
            m = mask[b].unsqueeze(-1).float()
            loss_q = (pinball * m).sum(dim=-1) + opts.median_weight * err[..., 2].abs() * mask[b].float()
            w = weights[b].unsqueeze(-1)
            loss = (loss_q * w).sum() / torch.clamp((mask[b].float() * w).sum(), min=1.0)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
    net.eval()
    return net


def _predict(net: Any, data: _Windows) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = net(
            torch.from_numpy(data.enc),
            torch.from_numpy(data.dec),
            torch.from_numpy(data.static),
            torch.from_numpy(data.series),
            torch.from_numpy(data.prior),
        )
    return out.numpy().astype(np.float64)  # (n, horizon, quantiles), scaled


def recurrent_fit_predict(
    tasks: list[Task],
    horizon: int,
    calendar: HolidayCalendar,
    *,
    cell: str,
    seed: int = 0,
    seeds: int = 1,
    options: dict[str, Any] | None = None,
    init: bytes | None = None,
) -> tuple[list[tuple[np.ndarray, dict[float, np.ndarray]]], bytes, dict[str, Any]]:
    """Train `seeds` networks (from `init`'s weights when it fits) and forecast each task; see the module doc."""
    import torch

    opts = RecurrentOptions.from_dict(options)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, opts.threads))
    try:
        groups = [list(range(len(tasks)))] if opts.scope == "global" else [[i] for i in range(len(tasks))]
        previous = _load_members(init, cell, opts) if init and opts.warm_start else None
        results: list[Any] = [None] * len(tasks)
        member_points: list[list[np.ndarray]] = [[np.zeros(horizon)] * len(tasks) for _ in range(seeds)]
        saved: dict[str, Any] = {}
        for group_number, group in enumerate(groups):
            keys = [tasks[i].series.key for i in group]
            train_parts, predict_parts = [], []
            for local, i in enumerate(group):
                task = tasks[i]
                train_parts.append(_windows(task, local, horizon, calendar, opts, None))
                predict_parts.append(_windows(task, local, horizon, calendar, opts, np.array([task.origin])))
            train = _concat(train_parts)
            train = _take(train, ~np.all(np.isnan(train.target), axis=1))
            future = _concat(predict_parts)
            n_enc, n_dec, n_static = train.enc.shape[-1], train.dec.shape[-1], train.static.shape[-1]
            shape = [n_enc, n_dec, n_static, len(group)]
            stored = previous.get(group_key(keys, opts)) if previous else None
            members_state = []
            predictions = []
            widths = _initial_widths(train)
            for m in range(seeds):
                torch.manual_seed(seed + m)
                net = _build_net(cell, n_enc, n_dec, n_static, len(group), opts, widths)
                epochs = opts.epochs
                if stored and stored["shape"] == shape and stored["keys"] == keys and m < len(stored["members"]):
                    net.load_state_dict(stored["members"][m])
                    epochs = opts.finetune_epochs
                _train_member(net, train, epochs, opts, seed + m)
                predictions.append(_predict(net, future))
                members_state.append({k: v.detach().clone() for k, v in net.state_dict().items()})
            saved[group_key(keys, opts)] = {"keys": keys, "shape": shape, "members": members_state}
            scaled = np.mean(predictions, axis=0)  # the seed ensemble: average of each quantile
            for local, i in enumerate(group):
                lvl = future.level[local]
                quantiles = {q: scaled[local, :, j] * lvl for j, q in enumerate(QUANTILES)}
                results[i] = (quantiles[0.5].copy(), quantiles)
                for m in range(seeds):
                    member_points[m][i] = predictions[m][local, :, 2] * lvl
            del group_number
        buffer = io.BytesIO()
        torch.save({"model": cell, "options": asdict(opts), "horizon": horizon, "groups": saved}, buffer)
        info = {"members": member_points, "windows": int(sum(1 for _ in tasks))}
        return results, buffer.getvalue(), info
    finally:
        torch.set_num_threads(previous_threads)


def _initial_widths(data: _Windows) -> np.ndarray:
    """Gaps between successive quantiles of the smoothing forecast's past errors (scaled): q50-q10, q10-q2.5,
    q90-q50, q97.5-q90."""
    errors = (data.target - data.prior)[~np.isnan(data.target)]
    if len(errors) < 20:
        return np.array([0.1, 0.08, 0.1, 0.08])
    q025, q10, q50, q90, q975 = np.quantile(errors, QUANTILES)
    return np.array([q50 - q10, q10 - q025, q90 - q50, q975 - q90])


def group_key(keys: list[str], opts: RecurrentOptions) -> str:
    return "\x1f".join(keys) if opts.scope == "per_series" else "global"


def _load_members(init: bytes, cell: str, opts: RecurrentOptions) -> dict[str, Any] | None:
    import torch

    try:
        stored = torch.load(io.BytesIO(init), map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - an unreadable artifact only means training from scratch
        return None
    if stored.get("model") != cell:
        return None
    free = ("epochs", "finetune_epochs", "threads", "warm_start")
    same = {k: v for k, v in stored.get("options", {}).items() if k not in free}
    mine = {k: v for k, v in asdict(opts).items() if k not in free}
    if same != mine:
        return None
    return dict(stored.get("groups", {}))
