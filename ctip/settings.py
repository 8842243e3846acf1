"""All of CTIP Bridge's settings, in one module.

Values come from the node home (``CTIP_HOME``, see ``ctip.home``) and from environment
variables read through small typed helpers that fail with a message naming the variable.
There is no production-only settings file: production is this module with
``CTIP_ENV=production``, which turns the deployment hardening on and refuses to start
without the variables it needs.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ctip import __version__
from ctip.home import HomeError, check_node_id, load_home

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(f"The environment variable {name} is not set.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"The environment variable {name} must be true or false, not {raw!r}."
    )


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be a whole number of at least {minimum}, "
            f"not {raw!r}."
        )
    return value


CTIP_ENV = os.environ.get("CTIP_ENV", "development")
if CTIP_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"CTIP_ENV must be 'development' or 'production', not {CTIP_ENV!r}.")
PRODUCTION = CTIP_ENV == "production"
CTIP_VERSION = __version__

# --- The node -----------------------------------------------------------------------------
_home_dir = os.environ.get("CTIP_HOME")
if _home_dir:
    try:
        CTIP_NODE_HOME = load_home(_home_dir)
    except HomeError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    CTIP_HOME = CTIP_NODE_HOME.path
    CTIP_NODE = CTIP_NODE_HOME.node_id
    SECRET_KEY = os.environ.get("CTIP_SECRET_KEY") or CTIP_NODE_HOME.secret_key
    _database_url = os.environ.get("DATABASE_URL") or CTIP_NODE_HOME.database_url
    _sqlite_path = CTIP_NODE_HOME.sqlite_path
else:
    # A deployment without a home folder gives every value through the environment.
    CTIP_NODE_HOME = None
    CTIP_HOME = None
    try:
        CTIP_NODE = check_node_id(env_str("CTIP_NODE"))
    except HomeError as exc:
        raise ImproperlyConfigured(f"CTIP_NODE: {exc}") from None
    SECRET_KEY = env_str("CTIP_SECRET_KEY")
    _database_url = env_str("DATABASE_URL")
    _sqlite_path = None

CTIP_KEYRING_FILE = os.environ.get("CTIP_KEYRING_FILE") or (
    str(CTIP_NODE_HOME.keys_path) if CTIP_NODE_HOME else None
)
if PRODUCTION and not CTIP_KEYRING_FILE:
    raise ImproperlyConfigured("The environment variable CTIP_KEYRING_FILE is not set.")

DEBUG = env_bool("CTIP_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("CTIP_DEBUG must be off when CTIP_ENV=production.")

ALLOWED_HOSTS = env_list("CTIP_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The environment variable CTIP_ALLOWED_HOSTS is not set.")
CSRF_TRUSTED_ORIGINS = env_list("CTIP_CSRF_TRUSTED_ORIGINS")

# --- Applications -------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "csp",
    "huey.contrib.djhuey",
    "ctip.core",
    "ctip.accounts",
    "ctip.audit",
    "ctip.cases",
    "ctip.plan",
    "ctip.prevention",
    "ctip.directory",
    "ctip.enforcement",
    "ctip.training",
    "ctip.monitoring",
    "ctip.finance",
    "ctip.exchange",
    "ctip.matching",
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
    "ctip.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "ctip.core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ctip.urls"
WSGI_APPLICATION = "ctip.wsgi.application"

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
                "ctip.core.context_processors.node",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_sqlite_path),
            # Wait for a writer instead of failing at once: two threads of one node share it.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and authentication ----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
OTP_TOTP_ISSUER = f"CTIP Bridge {CTIP_NODE}"

# django-axes: lock the username (not the address) after 5 failures for 30 minutes, so that
# a whole office behind one NAT is not locked out by one person, and a forged
# X-Forwarded-For cannot move the lock.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# A try made while locked does not restart the lock: otherwise anyone who knows a user name
# could keep that account locked for ever with one try every 29 minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# axes counts and locks by a keyed token of the name typed, never the name itself (it may be
# a password typed into the wrong field): ctip/accounts/lockout.py.
AXES_USERNAME_CALLABLE = "ctip.accounts.lockout.axes_username"
# Its own logs of sign-ins and failures are off: the audit log records both, with the
# account's id and the address (and no name as typed).
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# axes.W006 warns that a lock without the IP can be dodged by rotating User-Agent or cookies;
# our lock key is the username alone, which neither of those changes.
# drf_spectacular.W001 (a warning while generating the OpenAPI document) is not silenced:
# the enum names it warned about are fixed in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

SESSION_COOKIE_AGE = 8 * 60 * 60  # absolute limit, enforced by ctip.accounts.middleware
CTIP_SESSION_IDLE_SECONDS = 15 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy, in every mode so that tests see what production sends: scripts
# only from this origin (or with the per-response nonce), no inline styles, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-ctip-session"
    CSRF_COOKIE_NAME = "__Host-ctip-csrf"
    SECURE_SSL_REDIRECT = env_bool("CTIP_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Languages ----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("km", _("Khmer")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
# The project's own static folder (vendored htmx and fonts), besides each app's.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = str(CTIP_HOME / "static") if CTIP_HOME else os.environ.get("CTIP_STATIC_ROOT")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the app folders: a node needs no collectstatic step to run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ctip.accounts.authentication.ApiTokenAuthentication",
        "ctip.accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "ctip.core.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ctip.core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # JSON only in production: DRF's browsable pages are a developer's tool (and a second,
    # HTML face of every endpoint to harden); development keeps them.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CTIP Bridge API",
    "DESCRIPTION": "REST API of one CTIP Bridge node (Cambodia-China Joint Plan of Action).",
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # One component name per choice set that several serializers use under one field name
    # (or one set under several field names): without these the generator names them by a
    # hash ("Status7a6Enum") or gives one set several names, and warns (drf_spectacular.W001
    # in `check --deploy`). A new clash warns again: add its choices here.
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "ctip.accounts.models.Country",
        "SexEnum": "ctip.cases.models.Sex",
        "CandidateStatusEnum": "ctip.matching.models.CandidateStatus",
        "ActivityStatusEnum": "ctip.plan.models.Status",
        "EnforcementRequestStatusEnum": "ctip.enforcement.models.RequestStatus",
        "DelegationRoleEnum": "ctip.enforcement.models.ParticipantRole",
    },
}

# --- Exchange timing (seconds; defaults and meaning in ctip/exchange/conf.py) ------------
for _name in (
    "CTIP_EXCHANGE_HTTP_TIMEOUT",
    "CTIP_EXCHANGE_RETRY_BASE",
    "CTIP_EXCHANGE_RETRY_CAP",
    "CTIP_EXCHANGE_ALERT_AFTER",
    "CTIP_EXCHANGE_HTTP_TTL",
    "CTIP_EXCHANGE_HTTP_MAX_AGE",
    "CTIP_EXCHANGE_BUNDLE_TTL",
    "CTIP_EXCHANGE_MAX_SKEW",
):
    if os.environ.get(_name):
        try:
            globals()[_name] = float(os.environ[_name])
        except ValueError:
            raise ImproperlyConfigured(f"{_name} must be a number of seconds.") from None

# --- Retention (DP-7; record classes, reasons and legal holds in docs/retention.md) ------
# Days a record is kept before the purge crypto-shreds it: a closed victim case after its
# closure; a person with no case left after the last thing recorded about them (a
# screening that found no trafficking, a record never screened). For the node's data
# protection officer to set under national law. The worker applies the purge nightly
# (CTIP_RETENTION_PURGE_NIGHTLY=false leaves it to `ctip retention purge --apply`).
CTIP_RETENTION_CLOSED_CASE_DAYS = env_int("CTIP_RETENTION_CLOSED_CASE_DAYS", 7 * 365, minimum=1)
CTIP_RETENTION_NO_CASE_DAYS = env_int("CTIP_RETENTION_NO_CASE_DAYS", 2 * 365, minimum=1)
CTIP_RETENTION_PURGE_NIGHTLY = env_bool("CTIP_RETENTION_PURGE_NIGHTLY", default=True)

# --- Background work (huey): delivery retries, deadline reminders, matching runs ----------
# The queue lives in its own SQLite file in the node home (it holds task ids and arguments,
# never personal data), so a node needs no broker; `ctip run_huey --home DIR` is the worker.
HUEY = {
    "huey_class": "huey.SqliteHuey",
    "name": f"ctip-{CTIP_NODE}",
    "filename": os.environ.get("CTIP_TASKS_FILE")
    or (str(CTIP_HOME / "tasks.sqlite3") if CTIP_HOME else "ctip-tasks.sqlite3"),
    "immediate": env_bool("CTIP_TASKS_IMMEDIATE", default=False),
    "consumer": {"workers": 2, "worker_type": "thread"},
}

# --- Logging: never personal data, see docs/security.md ------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_path": {"()": "ctip.core.logging.RedactRequestPath"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_path"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("CTIP_LOG_LEVEL", "WARNING")},
    "loggers": {
        "ctip.security": {"level": "INFO"},
        "django.request": {"level": "ERROR", "filters": ["redact_path"]},
        "django.server": {"filters": ["redact_path"]},
        # At DEBUG Django logs every missing template variable with the whole context, which
        # may hold personal data (a name searched for): never below INFO.
        "django.template": {"level": "INFO"},
    },
}
