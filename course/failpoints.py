"""Named pauses for fault tests (e.g. kill a worker mid-submit). Inert unless configured.

HECHTWIJZER_FAILPOINT="finish-before-commit:3" makes the finish request wait 3 s just
before its commit, so a test can kill the worker there and check nothing half-saved.
"""

from __future__ import annotations

import time

from flask import current_app


def pause(name: str) -> None:
    configured = current_app.config.get("FAILPOINT") or ""
    point, _, seconds = configured.partition(":")
    if point == name:
        time.sleep(float(seconds or 1))
