"""Bed-demand forecasting: the nightly runs, the model registry, the forecast rows and the bed plan.

A night's run (ForecastRun) backtests the candidate models on the wards' census history, trains the winner
(a ForecastModel row of the registry, with its artifact file and sha256), writes WardForecast rows for
the next days and a cross-ward BedPlanEntry list from the forecasts' upper quantile. The forecast rows,
the plan and the registry change of one run commit together, so a page never sees half a night.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hospital.core.models import BaseModel
from scheduling.models import Ward

# Display names of the engine's model keys (ai.forecasting.engine.models.MODEL_NAMES); unknown keys show as
# they are. Kept here so that pages do not import the engine.
MODEL_LABELS = {
    "seasonal_naive": _("Seasonal naive (same day last week)"),
    "weekday_mean4": _("Mean of the last 4 same weekdays"),
    "auto_ets": _("AutoETS (exponential smoothing)"),
    "auto_theta": "AutoTheta",
    "lightgbm": _("LightGBM (lags and calendar)"),
    "gru": _("GRU (recurrent network)"),
    "lstm": _("LSTM (recurrent network)"),
    "ensemble": _("Ensemble (GRU + LSTM + LightGBM)"),
}


def model_label(name: str) -> str:
    return str(MODEL_LABELS.get(name, name))


class ForecastRun(BaseModel):
    """One night's forecasting job: one row per night (the job is idempotent per date), with where it is.

    `progress` (0-100) and `stage` are written as the job goes, in their own transactions, so pages can
    follow a running job; `stage_seconds` keeps each finished stage's duration. A succeeded night is never
    run again; a failed one may be (on demand), and keeps the error of its last attempt until then.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Stage(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        DATA = "data", _("Reading the census history")
        BACKTEST = "backtest", _("Backtesting the models")
        TRAIN = "train", _("Training the winner")
        FORECAST = "forecast", _("Writing the forecasts")
        PLAN = "plan", _("Planning the beds")
        DONE = "done", _("Done")

    night = models.DateField(_("night"), unique=True, help_text=_("History up to the day before; forecasts from it."))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    stage_seconds = models.JSONField(_("seconds per stage"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    notes = models.JSONField(
        _("notes"), default=list, blank=True, help_text=_("What the run noticed, as codes with their numbers.")
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model = models.ForeignKey(
        "forecasting.ForecastModel",
        verbose_name=_("model used"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs_served",
    )

    class Meta(BaseModel.Meta):
        ordering = ["-night"]
        verbose_name = _("forecast run")
        verbose_name_plural = _("forecast runs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="forecasting_run_status",
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=["queued", "data", "backtest", "train", "forecast", "plan", "done"]),
                name="forecasting_run_stage",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="forecasting_run_progress"),
            models.CheckConstraint(
                condition=~models.Q(status="succeeded") | models.Q(finished_at__isnull=False, progress=100),
                name="forecasting_run_succeeded_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.night} {self.status}"

    @property
    def note_texts(self) -> list[str]:
        """The notes in the reader's language (they are stored as codes with their numbers)."""
        return [run_note_text(note) for note in self.notes or []]


def run_note_text(note: dict) -> str:
    """One run note in words: wards left without a forecast or given a baseline, a failed training."""
    code = note.get("code")
    note = {**note, **{key: model_label(note[key]) for key in ("serving", "baseline") if note.get(key)}}
    if code == "no_history":
        return gettext("%(ward)s: no census history, no forecast.") % note
    if code == "short_history":
        return f"{note['ward']}: {short_history_text(note['days'], note['minimum'], note['model'])}"
    if code == "backtest_pieces":
        return gettext("Backtest: %(computed)s forecasts fitted, %(reused)s reused from earlier nights.") % note
    if code == "backtest_reused":
        return gettext("The backtest of %(night)s still holds: its winner was trained again on the newest data.") % note
    if code == "training_failed" and note.get("version"):
        return (
            gettext(
                "Training %(model)s failed; the previous model, version %(version)s (%(serving)s), keeps serving "
                "and made the forecasts."
            )
            % note
        )
    if code == "training_failed":
        return gettext("Training %(model)s failed; the forecasts come from the %(baseline)s baseline.") % note
    return str(note.get("text", note))


def short_history_text(days: int, minimum: int, model: str) -> str:
    return gettext(
        "%(days)s days of history, under the %(minimum)s a trained model needs: forecast by the %(model)s baseline."
    ) % {"days": days, "minimum": minimum, "model": model_label(model)}


class ForecastModel(BaseModel):
    """A trained model in the registry: what it is, what it was trained on, how it did, and its file.

    `metrics` holds the run's backtest of every candidate (the winner and every baseline), per model:
    {"mae": [per horizon 1..H], "smape", "mase", "bias", "coverage80", "coverage95", "mae_overall",
    "mase_overall", "train_seconds"}; `bootstrap` the 95 % paired-bootstrap interval of each model's MAE
    difference to the best baseline, relative to that baseline's MAE. One model serves per scope (and ward):
    a newer serving model retires the previous one in the same transaction, and a failed training is
    recorded with its error and leaves the previous one serving.
    """

    class Scope(models.TextChoices):
        GLOBAL = "global", _("All wards")
        WARD = "ward", _("One ward")

    class Status(models.TextChoices):
        SERVING = "serving", _("Serving")
        RETIRED = "retired", _("Retired")
        FAILED = "failed", _("Failed")

    version = models.PositiveIntegerField(_("version"), unique=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.GLOBAL)
    ward = models.ForeignKey(Ward, null=True, blank=True, on_delete=models.PROTECT, related_name="forecast_models")
    model_name = models.CharField(_("model"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    run = models.ForeignKey(
        ForecastRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="trained_models"
    )
    window_start = models.DateField(_("training window start"), null=True, blank=True)
    window_end = models.DateField(_("training window end"), null=True, blank=True)
    horizon = models.PositiveSmallIntegerField(_("horizon (days)"))
    series_keys = models.JSONField(_("wards trained on"), default=list, blank=True)
    hyperparameters = models.JSONField(_("hyper-parameters"), default=dict, blank=True)
    backtest_night = models.DateField(
        _("backtest night"), null=True, blank=True, help_text=_("The night whose backtest the figures come from.")
    )
    backtest_origins = models.JSONField(_("backtest origins"), default=list, blank=True)
    metrics = models.JSONField(_("backtest metrics"), default=dict, blank=True)
    bootstrap = models.JSONField(_("bootstrap intervals"), default=dict, blank=True)
    best_baseline = models.CharField(_("best baseline"), max_length=40, blank=True)
    reason = models.TextField(_("why it serves"), blank=True)
    artifact_path = models.CharField(_("artifact file"), max_length=300, blank=True)
    artifact_sha256 = models.CharField(_("artifact sha256"), max_length=64, blank=True)
    artifact_size = models.PositiveBigIntegerField(_("artifact size (bytes)"), default=0)
    train_seconds = models.FloatField(
        _("training time (s)"), null=True, blank=True, help_text=_("The night's training of this model, in seconds.")
    )
    error = models.TextField(_("error"), blank=True)
    serving_since = models.DateTimeField(_("serving since"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        ordering = ["-version"]
        verbose_name = _("forecasting model")
        verbose_name_plural = _("forecasting models")
        constraints = [
            models.CheckConstraint(condition=models.Q(scope__in=["global", "ward"]), name="forecasting_model_scope"),
            models.CheckConstraint(
                condition=models.Q(status__in=["serving", "retired", "failed"]), name="forecasting_model_status"
            ),
            models.CheckConstraint(
                condition=models.Q(scope="global", ward__isnull=True) | models.Q(scope="ward", ward__isnull=False),
                name="forecasting_model_scope_ward",
            ),
            # A serving model has its file; a failed one says why.
            models.CheckConstraint(
                condition=~models.Q(status="serving")
                | (~models.Q(artifact_sha256="") & models.Q(serving_since__isnull=False)),
                name="forecasting_model_serving_has_artifact",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(error=""), name="forecasting_model_failed_has_error"
            ),
            models.UniqueConstraint(
                fields=["scope"],
                condition=models.Q(status="serving", scope="global"),
                name="forecasting_model_one_serving_global",
            ),
            models.UniqueConstraint(
                fields=["ward"],
                condition=models.Q(status="serving", scope="ward"),
                name="forecasting_model_one_serving_per_ward",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.model_name} ({self.status})"


class WardForecast(BaseModel):
    """A ward's forecast midnight census for one day, made by a run: the mean and the quantiles.

    q025..q975 bound the 95 % interval, q10..q90 the 80 % one. `model_name` is the model that made it
    (the serving model, or a baseline for a ward whose history is too short: `history_days` then says how
    short, and `note` says why in the reader's language).
    """

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="forecasts")
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="forecasts")
    model = models.ForeignKey(ForecastModel, null=True, blank=True, on_delete=models.PROTECT, related_name="forecasts")
    model_name = models.CharField(_("model"), max_length=40)
    origin = models.DateField(_("origin"), help_text=_("Last day of history the forecast used."))
    target_date = models.DateField(_("date"))
    horizon = models.PositiveSmallIntegerField(_("days ahead"))
    mean = models.FloatField(_("expected census"))
    q025 = models.FloatField(_("2.5 % quantile"))
    q10 = models.FloatField(_("10 % quantile"))
    q50 = models.FloatField(_("median"))
    q90 = models.FloatField(_("90 % quantile"))
    q975 = models.FloatField(_("97.5 % quantile"))
    capacity = models.PositiveIntegerField(_("capacity"))
    history_days = models.PositiveIntegerField(
        _("days of history"),
        null=True,
        blank=True,
        help_text=_("Set when a baseline made the forecast because the ward's history is too short."),
    )
    min_history_days = models.PositiveIntegerField(_("days a trained model needs"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        ordering = ["ward_id", "target_date"]
        verbose_name = _("ward forecast")
        verbose_name_plural = _("ward forecasts")
        indexes = [models.Index(fields=["ward", "target_date"], name="forecasting_ward_day_idx")]
        constraints = [
            models.UniqueConstraint(fields=["run", "ward", "target_date"], name="forecasting_one_per_run_ward_day"),
            models.CheckConstraint(condition=models.Q(horizon__gte=1), name="forecasting_forecast_horizon"),
            models.CheckConstraint(
                condition=models.Q(target_date__gt=models.F("origin")), name="forecasting_forecast_after_origin"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    q025__gte=0,
                    q10__gte=models.F("q025"),
                    q50__gte=models.F("q10"),
                    q90__gte=models.F("q50"),
                    q975__gte=models.F("q90"),
                    mean__gte=0,
                ),
                name="forecasting_forecast_quantiles_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ward_id} {self.target_date}: {self.mean:.1f}"

    @property
    def note(self) -> str:
        """Why a baseline made this forecast, in the reader's language; "" for the serving model's."""
        if self.history_days is None or self.min_history_days is None:
            return ""
        return short_history_text(self.history_days, self.min_history_days, self.model_name)


class BedPlanEntry(BaseModel):
    """One recommendation of a night's cross-ward bed plan for one day.

    - lend: `to_ward` lends `patients` beds to `ward`'s overflow (same specialty or not, `same_specialty`);
    - open_flexible: `ward` opens `patients` flexible beds of its own;
    - unplaced: `patients` of `ward` who, at the upper quantile, find no bed anywhere.
    `detail` holds the numbers the explanation is written from, in the reader's language, at display time.
    """

    class Action(models.TextChoices):
        LEND = "lend", _("Lend beds")
        OPEN_FLEXIBLE = "open_flexible", _("Open flexible beds")
        UNPLACED = "unplaced", _("Unplaced")

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="plan_entries")
    day = models.DateField(_("day"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+", verbose_name=_("ward over capacity"))
    to_ward = models.ForeignKey(
        Ward, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("receiving ward")
    )
    patients = models.PositiveIntegerField(_("patients"))
    same_specialty = models.BooleanField(_("same specialty"), null=True, blank=True)
    detail = models.JSONField(_("numbers"), default=dict, blank=True)

    class Meta(BaseModel.Meta):
        ordering = ["day", "id"]
        verbose_name = _("bed plan entry")
        verbose_name_plural = _("bed plan entries")
        indexes = [models.Index(fields=["run", "day"], name="forecasting_plan_run_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["lend", "open_flexible", "unplaced"]), name="forecasting_plan_action"
            ),
            models.CheckConstraint(condition=models.Q(patients__gt=0), name="forecasting_plan_patients"),
            models.CheckConstraint(
                condition=(
                    models.Q(action="lend", to_ward__isnull=False, same_specialty__isnull=False)
                    & ~models.Q(to_ward=models.F("ward"))
                )
                | (~models.Q(action="lend") & models.Q(to_ward__isnull=True)),
                name="forecasting_plan_lend_has_other_ward",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.action} {self.patients}"


class BacktestPiece(models.Model):
    """One model's backtest forecasts of every ward from one origin, kept so that next week's backtest fits
    only its new origin (ai.forecasting.engine.pieces). `key` hashes everything the forecasts depend on, so a
    piece is found only when fitting again would give the same numbers. Written as each is computed: a night
    cut short resumes where it stopped. Pieces unused for PIECE_KEEP_DAYS are deleted."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    model_name = models.CharField(_("model"), max_length=40)
    origin = models.DateField(_("origin"))
    payload = models.BinaryField(_("forecasts"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    used_at = models.DateTimeField(_("last used"), db_index=True)

    class Meta:
        ordering = ["origin", "model_name"]
        verbose_name = _("backtest piece")
        verbose_name_plural = _("backtest pieces")

    def __str__(self) -> str:
        return f"{self.model_name} {self.origin}"
