"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from course import create_app
from course.catalog import ContentError

try:
    app = create_app()
except ContentError as exc:
    # Refuse to start, naming the broken file and the problem (same text as `course check`).
    raise SystemExit(f"Inhoud ongeldig: {exc}") from None
