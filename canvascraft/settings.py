"""CanvasCraft settings, read from environment variables only.

With nothing set, the studio runs on the embedded defaults: SQLite under `var/`, the django-q2 ORM
broker and no Redis. See README.md for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from canvascraft.backends import (
    channel_layer_settings,
    database_settings,
    q_cluster_settings,
    queue_for_device,
    queue_names,
)
from canvascraft.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
_INSECURE_DEFAULT_KEY = "canvascraft-local-development-key-change-me-in-production"
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_DEFAULT_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "testserver"}
if SECRET_KEY == _INSECURE_DEFAULT_KEY and set(ALLOWED_HOSTS) - _LOCAL_HOSTS:
    raise ImproperlyConfiguredEnv("SECRET_KEY must be set when ALLOWED_HOSTS names a public host")

DATA_DIR = Path(env_str("CANVASCRAFT_DATA_DIR", str(BASE_DIR / "var"))).resolve()
ARTIFACT_DIR = DATA_DIR / "artifacts"
UPLOAD_TEMP_DIR = DATA_DIR / "tmp"
for _directory in (DATA_DIR, ARTIFACT_DIR, UPLOAD_TEMP_DIR):
    _directory.mkdir(parents=True, exist_ok=True)

REDIS_URL = env_str("REDIS_URL", "")

# librosa's numba kernels compile on first use (~15 s); a cache outside the checkout makes that
# a one-time cost per machine for the web server, the workers and the tests alike.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path.home() / ".cache" / "canvascraft" / "numba"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "channels",
    "canvascraft",
    "registry",
    "pipelines",
    "gallery",
]

MIDDLEWARE = [
    "canvascraft.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "canvascraft.middleware.ErrorHandlingMiddleware",
]

ROOT_URLCONF = "canvascraft.urls"
WSGI_APPLICATION = "canvascraft.wsgi.application"
ASGI_APPLICATION = "canvascraft.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "canvascraft.context_processors.studio",
            ],
        },
    }
]

DATABASES = {
    "default": database_settings(
        env_str("DATABASE_URL", ""),
        DATA_DIR,
        pool_size=env_int("CANVASCRAFT_DB_POOL_SIZE", 10, minimum=1),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery:home"
LOGOUT_REDIRECT_URL = "gallery:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Browser libraries installed by `make` from package-lock.json (npm), served under their own
# prefix; without npm the folder is missing and the pages use their built-in fallbacks.
UPLOT_DIR = BASE_DIR / "node_modules" / "uplot" / "dist"
# ONNX Runtime Web's WASM build only (three files the Makefile copies out of its 139 MB package),
# for the model page's "run in this browser" switch.
ORT_DIR = BASE_DIR / "node_modules" / ".canvascraft-ort"
STATICFILES_DIRS = [BASE_DIR / "static"]
if UPLOT_DIR.is_dir():
    STATICFILES_DIRS.append(("vendor/uplot", UPLOT_DIR))
if ORT_DIR.is_dir():
    STATICFILES_DIRS.append(("vendor/ort", ORT_DIR))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "canvascraft.staticfiles.StudioStaticFilesStorage"},
}
# Serve straight from the app folders too, so pages work before `collectstatic` has run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# Uploads: anything above the memory threshold streams to a temp file inside the data dir.
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_TEMP_DIR)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CANVASCRAFT_MAX_REQUEST_MB", 64, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 10
MAX_ARTIFACT_BYTES = env_int("CANVASCRAFT_MAX_ARTIFACT_MB", 32, minimum=1) * 1024 * 1024
MAX_METRIC_BATCH = env_int("CANVASCRAFT_MAX_METRIC_BATCH", 10_000, minimum=1)
# Dataset uploads: every limit is checked before anything is kept (see registry/ingest).
MAX_DATASET_BYTES = env_int("CANVASCRAFT_MAX_DATASET_MB", 200, minimum=1) * 1024 * 1024
MAX_DATASET_MEMBERS = env_int("CANVASCRAFT_MAX_DATASET_FILES", 20_000, minimum=1)
MAX_DATASET_INFLATED_BYTES = (
    env_int("CANVASCRAFT_MAX_DATASET_INFLATED_MB", 1024, minimum=1) * 1024 * 1024
)
MAX_DATASET_MEMBER_BYTES = env_int("CANVASCRAFT_MAX_DATASET_FILE_MB", 50, minimum=1) * 1024 * 1024
MAX_IMAGE_PIXELS = env_int("CANVASCRAFT_MAX_IMAGE_PIXELS", 4096 * 4096, minimum=1)
MAX_AUDIO_SECONDS = env_int("CANVASCRAFT_MAX_AUDIO_SECONDS", 60, minimum=1)
# Predictions (`/api/v1/models/<name>/predict/`): a body and each file in it are bounded before
# anything is decoded; a batch holds at most PREDICT_MAX_INPUTS inputs.
PREDICT_MAX_BODY_BYTES = env_int("CANVASCRAFT_PREDICT_MAX_BODY_MB", 16, minimum=1) * 1024 * 1024
PREDICT_MAX_FILE_BYTES = env_int("CANVASCRAFT_PREDICT_MAX_FILE_MB", 5, minimum=1) * 1024 * 1024
PREDICT_MAX_INPUTS = env_int("CANVASCRAFT_PREDICT_MAX_INPUTS", 256, minimum=1)
# Loaded models kept per process (an LRU keyed by version), and the prediction log: one request
# in PREDICTION_LOG_EVERY is logged, and a version keeps its newest PREDICTION_LOG_KEEP rows.
MODEL_CACHE_SIZE = env_int("CANVASCRAFT_MODEL_CACHE_SIZE", 8, minimum=1)
# The predict lane (gallery/predict_lane.py) repeats, beside Django, a prediction route Django
# answered for the same token within this long; changes made in another process take as long to
# be seen there (0: every request goes through Django).
PREDICT_ROUTE_CACHE_S = env_int("CANVASCRAFT_PREDICT_ROUTE_CACHE_MS", 1000, minimum=0) / 1000
PREDICT_ROUTE_CACHE_SIZE = env_int("CANVASCRAFT_PREDICT_ROUTE_CACHE_SIZE", 10_000, minimum=1)
PREDICT_LANE_THREADS = env_int("CANVASCRAFT_PREDICT_LANE_THREADS", 4, minimum=1)
# A route whose recent predictions took less than this is answered on the event loop itself.
PREDICT_LANE_INLINE_MS = env_int("CANVASCRAFT_PREDICT_LANE_INLINE_US", 1000, minimum=0) / 1000
MODEL_WARM_ON_ALIAS_MOVE = env_bool("CANVASCRAFT_MODEL_WARM_ON_ALIAS_MOVE", True)
# Webhooks call public addresses only unless this is on (a studio on a private network that
# notifies its own services); each attempt gives up after WEBHOOK_TIMEOUT_S.
WEBHOOK_ALLOW_PRIVATE = env_bool("CANVASCRAFT_WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_S = env_int("CANVASCRAFT_WEBHOOK_TIMEOUT_S", 5, minimum=1)
PREDICTION_LOG_EVERY = env_int("CANVASCRAFT_PREDICTION_LOG_EVERY", 1, minimum=1)
PREDICTION_LOG_MAX_PER_S = env_int("CANVASCRAFT_PREDICTION_LOG_MAX_PER_S", 20, minimum=1)
# A model's "tried" counter is written at most this often per process (0: every request).
PREDICTION_COUNT_FLUSH_S = env_int("CANVASCRAFT_PREDICTION_COUNT_FLUSH_MS", 1000, minimum=0) / 1000
PREDICTION_LOG_KEEP = env_int("CANVASCRAFT_PREDICTION_LOG_KEEP", 10_000, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gallery.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "gallery.api.parsers.FastJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "gallery.api.pagination.StudioPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "canvascraft.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "gallery.api.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CanvasCraft ML Studio API",
    "DESCRIPTION": "Track experiments and runs, log metrics, params and artifacts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Training workers. A worker started with CANVASCRAFT_DEVICE=cuda:0 (or mps) trains on that
# device and takes runs from the GPU queue; others take the CPU queue. "auto" requests go to
# CANVASCRAFT_AUTO_DEVICE_CLASS's queue.
TRAINING_DEVICE = env_str("CANVASCRAFT_DEVICE", "cpu")
AUTO_DEVICE_CLASS = env_str("CANVASCRAFT_AUTO_DEVICE_CLASS", "cpu")
if AUTO_DEVICE_CLASS not in {"cpu", "gpu"}:
    raise ImproperlyConfiguredEnv("CANVASCRAFT_AUTO_DEVICE_CLASS must be cpu or gpu")
HEARTBEAT_INTERVAL_S = env_int("CANVASCRAFT_HEARTBEAT_S", 5, minimum=1)
HEARTBEAT_TIMEOUT_S = env_int("CANVASCRAFT_HEARTBEAT_TIMEOUT_S", 60, minimum=2)
CHECKPOINT_DIR = DATA_DIR / "checkpoints"
# A checkpoint at the end of an epoch once this many seconds have passed since the last one
# (0: every epoch). Short epochs then cost nothing to checkpoint; a resume redoes < 10 s.
CHECKPOINT_EVERY_S = env_int("CANVASCRAFT_CHECKPOINT_EVERY_S", 10, minimum=0)
# Sample predictions for the live run page: after the first epoch, then at most once per this
# many seconds (0: every epoch), and after the last (pipelines.training.samples).
SAMPLE_EVERY_S = env_int("CANVASCRAFT_SAMPLE_EVERY_S", 5, minimum=0)

# Keys of this studio in Redis (task queues, channel layer): studios sharing one Redis need
# different prefixes, or their workers take each other's tasks.
REDIS_PREFIX = env_str("CANVASCRAFT_REDIS_PREFIX", "canvascraft")
TASK_QUEUES = queue_names(REDIS_PREFIX)
Q_CLUSTER = q_cluster_settings(
    REDIS_URL,
    n_workers=env_int("CANVASCRAFT_WORKERS", 1, minimum=1),
    task_timeout_s=env_int("CANVASCRAFT_TASK_TIMEOUT_S", 6 * 3600, minimum=10),
    queue_name=queue_for_device(TRAINING_DEVICE, REDIS_PREFIX),
    prefix=REDIS_PREFIX,
)
CHANNEL_LAYERS = channel_layer_settings(REDIS_URL, prefix=REDIS_PREFIX)
# Live progress (registry.streams, gallery.live). With Redis every process pushes its events on
# commit; without it the web process tails the event table of the streams someone watches. The
# tail's interval bounds the embedded delay; with Redis it is only a safety net for lost pushes.
LIVE_PUSH = bool(REDIS_URL)
LIVE_TAIL_INTERVAL_MS = env_int("CANVASCRAFT_LIVE_TAIL_MS", 2000 if LIVE_PUSH else 100, minimum=10)
# A client may send this many messages per second (with a burst of twice as many) before it is
# closed as a flood.
LIVE_CLIENT_MESSAGES_PER_S = env_int("CANVASCRAFT_LIVE_CLIENT_RATE", 5, minimum=1)
# Stored events older than this are purged daily; a client resuming from before gets a snapshot.
LIVE_EVENT_RETENTION_DAYS = env_int("CANVASCRAFT_LIVE_RETENTION_DAYS", 30, minimum=1)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfiguredEnv(f"LOG_FORMAT={LOG_FORMAT!r} must be 'json' or 'text'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "canvascraft.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "canvascraft.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The error middleware logs every failure itself, with the request id.
        "django.request": {"level": "CRITICAL"},
        "daphne": {"level": "WARNING"},
    },
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# The accounts `make run` creates and prints (local demo only; seed_demo never resets a password).
DEMO_CREATOR = ("demo", "canvascraft-demo")
# seed_demo trains and publishes two small demo models (a few seconds) unless this is off.
SEED_DEMO_MODELS = env_bool("CANVASCRAFT_SEED_DEMO_MODELS", True)
DEMO_OPERATOR = ("admin", "canvascraft-admin")
