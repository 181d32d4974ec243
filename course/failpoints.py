"""Named points where fault tests stop a request (e.g. to kill a worker mid-submit). Inert unless configured.

A handshake, for acting at the point: HECHTWIJZER_FAILPOINT="finish-before-commit" with
HECHTWIJZER_FAILPOINT_DIR=<dir>. The first request to reach the point creates
<dir>/finish-before-commit.reached holding its process id, then waits until the test creates
<dir>/finish-before-commit.release (at most FAILPOINT_HOLD_SECONDS). The test waits for the
marker before it acts, so a kill can never land before the point. Later requests pass through.

A pause, to widen a race window: HECHTWIJZER_FAILPOINT="start-after-checks:0.3" makes every request
reaching the point wait 0.3 s. That synchronises nothing; it only makes overlaps likely.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from flask import current_app

# How often a held request looks for the release file.
_POLL_SECONDS = 0.02


def pause(name: str) -> None:
    config = current_app.config
    point, _, seconds = (config.get("FAILPOINT") or "").partition(":")
    if point != name:
        return
    if config.get("FAILPOINT_DIR"):
        _hold(Path(config["FAILPOINT_DIR"]), name, float(config["FAILPOINT_HOLD_SECONDS"]))
    else:
        time.sleep(float(seconds or 1))


def _hold(directory: Path, name: str, limit: float) -> None:
    """Signal that this request reached the point, then wait for the release (first request only)."""
    draft = directory / f"{name}.{os.getpid()}.{threading.get_ident()}.draft"
    draft.write_text(str(os.getpid()), encoding="ascii")
    try:
        # A hard link appears complete or not at all, and only once: one request claims the point.
        os.link(draft, directory / f"{name}.reached")
    except FileExistsError:
        return
    finally:
        draft.unlink()
    release = directory / f"{name}.release"
    deadline = time.monotonic() + limit
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
