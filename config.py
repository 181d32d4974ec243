"""Configuration, read from the environment with safe defaults for local use."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("HECHTWIJZER_INSTANCE", BASE_DIR / "instance"))


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one kept in the instance folder.

    A key generated per process would log everyone out on every restart and
    break sessions across gunicorn workers, so the fallback is persisted.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'hechtwijzer.db'}"
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url()
    # pool_pre_ping lets PostgreSQL restarts surface as one retried connection, not errors.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "5000"))
    SQLITE_MAX_PAGE_COUNT = os.environ.get("SQLITE_MAX_PAGE_COUNT")  # fault tests only
    # Fault tests only (see course/failpoints.py): "<name>" with a FAILPOINT_DIR holds the first request
    # at that point until the test releases it; "<name>:<seconds>" without one pauses every request there.
    FAILPOINT = os.environ.get("HECHTWIJZER_FAILPOINT", "")
    FAILPOINT_DIR = os.environ.get("HECHTWIJZER_FAILPOINT_DIR", "")
    FAILPOINT_HOLD_SECONDS = 60

    CONTENT_DIR = Path(os.environ.get("HECHTWIJZER_CONTENT", BASE_DIR / "content"))
    QUIZZES_DIR = Path(os.environ.get("HECHTWIJZER_QUIZZES", BASE_DIR / "quizzes"))

    # Cookies: Secure by default; local plain-http runs switch it off explicitly.
    SESSION_COOKIE_SECURE = _env_flag("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8
    # Sessions last 8 hours from login; not re-signing the cookie on every response saves work per page.
    SESSION_REFRESH_EACH_REQUEST = False

    # A session also ends after this long without a request (measured in steps of 5 minutes).
    SESSION_IDLE_TIMEOUT_SECONDS = int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", 60 * 60 * 2))
    # Roles that must use two-step sign-in (authenticator app); everyone else may.
    TWO_FACTOR_REQUIRED_ROLES = tuple(
        role.strip() for role in os.environ.get("TWO_FACTOR_REQUIRED_ROLES", "admin").split(",") if role.strip()
    )

    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8

    # Request bodies: the largest thing anyone sends is a CSV of at most 1 MB (MAX_CSV_BYTES in
    # course/trainer/groups.py) plus a few hundred bytes of multipart headers and the CSRF token.
    # Werkzeug refuses a larger Content-Length with 413 before reading a byte of the body, and
    # cuts a chunked body off at this size.
    MAX_CONTENT_LENGTH = 1_000_000 + 64 * 1024
    # Multipart: the most a text field (or one read of the parser's buffer, 64 KiB) may hold in
    # memory; our text fields are at most 500 characters. Urlencoded bodies fall under
    # MAX_CONTENT_LENGTH only (Werkzeug reads them whole).
    MAX_FORM_MEMORY_SIZE = 256 * 1024
    # Parts in a multipart body, fields in a urlencoded one: a quiz attempt posts one per answer.
    MAX_FORM_PARTS = 1000

    # Login throttling (counted in the database so it holds across workers).
    LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
    LOGIN_THROTTLE_MAX_PER_ACCOUNT = 5
    LOGIN_THROTTLE_MAX_PER_CLIENT = 30

    # werkzeug's method for new hashes; a stored hash made with another one is re-made at sign-in.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    PASSWORD_MIN_LENGTH = 10
    # New passwords need a zxcvbn score of at least this (0-4; 3: "safely unguessable", about 10^10
    # guesses) and may not be in course/auth/common_passwords.txt (see course/auth/passwords.py).
    PASSWORD_MIN_SCORE = 3

    # Reverse proxies in front of gunicorn that add X-Forwarded-For and set X-Forwarded-Proto: 1 behind
    # nginx, Caddy or a load balancer (2 behind a load balancer and then nginx, and so on). Werkzeug's
    # ProxyFix then takes the client address (login throttle, rate limits) and the scheme (https in
    # generated external URLs, Flask-WTF's https Referer check) from the entries those proxies added.
    # 0 (direct exposure, local runs) ignores every X-Forwarded-* header, so no client can forge its
    # address or scheme. Set wrongly to 0 behind a proxy, every client has the proxy's address and the
    # per-client limits become one shared limit for everyone. The host always comes from the Host header,
    # which the proxy passes on (docs/deploy/nginx.conf, docs/deploy/Caddyfile).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Public verification of certificates: lookups per client address per window.
    VERIFY_RATE_LIMIT = 30
    VERIFY_RATE_WINDOW_SECONDS = 60
    # Absolute base (https://leren.example.nl) of the verification link printed on certificates (text
    # and QR code). Required to download certificate PDFs: a request's Host header must never decide
    # what is printed on a certificate (docs/decisions.md). scripts/run.sh sets it for local use.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or None

    # Registration: accepted posts per client address per window (each one sends a mail).
    REGISTER_RATE_LIMIT = int(os.environ.get("REGISTER_RATE_LIMIT", "20"))
    REGISTER_RATE_WINDOW_SECONDS = 15 * 60
    REGISTRATION_TOKEN_HOURS = 24
    # Password reset by mailed link: the link works this long and once. Requests are limited per client
    # address and per e-mail address (the latter so nobody floods one mailbox from many addresses).
    PASSWORD_RESET_MINUTES = 60
    RESET_RATE_LIMIT = int(os.environ.get("RESET_RATE_LIMIT", "10"))
    RESET_RATE_WINDOW_SECONDS = 15 * 60
    RESET_ADDRESS_RATE_LIMIT = 3
    RESET_ADDRESS_RATE_WINDOW_SECONDS = 15 * 60
    # Address verification links (a new account's own address, or a new address before it takes effect),
    # and how many such mails one account may ask for per window (resend, change of address).
    EMAIL_VERIFICATION_HOURS = 48
    EMAIL_LINK_RATE_LIMIT = 3
    EMAIL_LINK_RATE_WINDOW_SECONDS = 15 * 60
    INVITATION_TOKEN_DAYS = 14
    # An open invitation is mailed again (re-send, the same address again, a CSV again) at most this often.
    INVITATION_RESEND_MINUTES = 10

    # Mail (Flask-Mailman). With MAIL_SERVER set, mail goes out over SMTP; without it, every mail is
    # written as an .eml file to instance/outbox/ so a local run needs no mail server.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = _env_flag("MAIL_USE_TLS", True) and not _env_flag("MAIL_USE_SSL", False)
    MAIL_USE_SSL = _env_flag("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Hechtwijzer <noreply@localhost>")
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "30"))
    MAIL_BACKEND = "smtp" if MAIL_SERVER else "course.mail.eml_files.EmailBackend"
    MAIL_FILE_PATH = os.environ.get("MAIL_FILE_PATH", str(INSTANCE_DIR / "outbox"))
    # The outbox sender: attempts before a mail is marked failed, the first retry delay (doubling
    # each time, at most OUTBOX_RETRY_MAX_SECONDS), and how long a claimed row may stay "sending"
    # before another sender takes it back (longer than MAIL_TIMEOUT).
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_RETRY_BASE_SECONDS = 60
    OUTBOX_RETRY_MAX_SECONDS = 6 * 60 * 60
    OUTBOX_LEASE_SECONDS = 5 * 60

    # LTI 1.3 (course/lti/): the tool's RSA keys live as files in this folder (0600), never in the
    # database; `flask course lti-keys rotate` adds a new key, and a replaced key stays in the public
    # JWKS this many hours so platforms that cached it can still check what it signed.
    LTI_KEY_DIR = os.environ.get("LTI_KEY_DIR", str(INSTANCE_DIR / "lti_keys"))
    LTI_KEY_OVERLAP_HOURS = int(os.environ.get("LTI_KEY_OVERLAP_HOURS", "72"))
    # Nonces and launch data stay this long in lti_launch_values (a launch form is filled in quickly).
    LTI_LAUNCH_DATA_SECONDS = 60 * 60


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PUBLIC_BASE_URL = "https://hechtwijzer.test"
    # scrypt costs ~50 ms a hash; tests log in hundreds of times.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Mail stays in memory (flask_mailman's mail.outbox) unless a test points it at SMTP or a folder.
    MAIL_BACKEND = "locmem"
    MAIL_DEFAULT_SENDER = "Hechtwijzer <noreply@example.org>"
