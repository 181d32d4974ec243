"""Wapiti finds nothing: logged out and as a signed-in learner, against gunicorn over https on 127.0.0.1
(tests/system/security_scan.py holds the scan; scripts/security-scan.sh runs it on its own)."""

from __future__ import annotations

import shutil

import pytest

from tests.system.security_scan import run_scans, summary

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        shutil.which("wapiti") is None, reason="wapiti is not installed (apt-get install wapiti; scripts/test.sh does)"
    ),
]


def test_wapiti_finds_nothing_logged_out_or_as_a_learner(tmp_path):
    scans = run_scans(tmp_path)
    print("\n" + "\n".join(summary(scan) for scan in scans))
    for scan in scans:
        assert not scan.problems, f"the {scan.name} scan did not cover what it should: {scan.problems}"
        assert not scan.findings, f"wapiti ({scan.name}) reports:\n" + "\n".join(map(str, scan.findings))
