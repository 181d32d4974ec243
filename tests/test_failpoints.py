"""Failpoints (course/failpoints.py): inert by default; a handshake holds the first request at the
point until the test lets it go, so a fault test acts exactly there and never before."""

from __future__ import annotations

import threading

from course import failpoints
from tests.system.harness import Failpoint


def pass_point(app, name: str) -> None:
    with app.app_context():
        failpoints.pause(name)


def test_a_request_is_held_at_the_point_until_released_and_only_the_first(app, tmp_path, monkeypatch):
    point = Failpoint(tmp_path, "finish-before-commit")
    monkeypatch.setitem(app.config, "FAILPOINT", point.name)
    monkeypatch.setitem(app.config, "FAILPOINT_DIR", str(point.directory))
    held = threading.Thread(target=pass_point, args=(app, point.name))
    held.start()
    try:
        assert point.wait_until_reached() > 0
        # Meanwhile another request passes the point without stopping, as does any other point.
        pass_point(app, point.name)
        pass_point(app, "start-after-checks")
        # Still held after those (and a moment more): it waits for the release, not for a time.
        held.join(timeout=0.2)
        assert held.is_alive(), "the request went on before the test released it"
    finally:
        point.release()
        held.join(timeout=10)
    assert not held.is_alive()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "finish-before-commit.reached",
        "finish-before-commit.release",
    ], "no drafts left behind"


def test_without_configuration_no_point_stops_anything(app, tmp_path):
    assert app.config["FAILPOINT"] == ""
    pass_point(app, "finish-before-commit")
    assert list(tmp_path.iterdir()) == []
