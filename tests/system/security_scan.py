"""Wapiti (Debian's package) against the app under gunicorn on 127.0.0.1: once logged out, once as a
signed-in learner. Every vulnerability or anomaly wapiti reports is a finding, and so is every error in
the server's log during a scan; the run passes with 0.

Run: scripts/security-scan.sh   (or .venv/bin/python -m tests.system.security_scan --output DIR)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.system.harness import (
    Server,
    csrf,
    fresh_database,
    gunicorn,
    login,
    self_signed_certificate,
    take_quiz,
)

# Attack modules, chosen to fit a CI budget and to stay on this machine:
# - left out because they reach the internet: ssrf and xxe (they plant URLs of wapiti's public endpoint
#   and then ask it whether it was contacted), nikto and wapp (they download their databases);
# - left out for time: buster (31,545 guessed paths per folder) and brute_login_form (weak passwords
#   against the login form: the login throttle is tested in tests/test_auth.py);
# - shellshock: only CGI scripts run by bash are exposed to it, and in 3.0.4 its forged Cookie header
#   replaces the session cookie, so every module after it would scan logged out.
MODULES = (
    "backup",
    "cookieflags",
    "crlf",
    "csp",
    "csrf",
    "exec",
    "file",
    "htaccess",
    "http_headers",
    "methods",
    "permanentxss",
    "redirect",
    "sql",
    "xss",
)
# blindsql times 218 payloads per field; they call the sleep functions of MySQL, PostgreSQL (pg_sleep)
# and SQL Server, and SQLite has none, so it runs only against PostgreSQL (70% of the learner scan).
POSTGRESQL_MODULES = ("blindsql",)


def modules(database_url: str) -> tuple[str, ...]:
    return MODULES + (POSTGRESQL_MODULES if database_url.startswith("postgresql") else ())


# Bounds (seconds, links): the crawl of the whole site takes a few seconds; these only stop a runaway.
MAX_SCAN_TIME = 60
MAX_ATTACK_TIME = 120
DEPTH = 6
REQUEST_TIMEOUT = 10
# Flask-Login ties a session to its User-Agent: the login and wapiti use the same one.
USER_AGENT = "hechtwijzer-security-scan"
LEARNER_QUIZZES = ("kennischeck-inleiding", "kennischeck-herstel-gedesorganiseerde-gehechtheid")
# Public pages no page links to (a certificate's QR code leads to the verify page).
UNLINKED_PUBLIC_PAGES = ("/verifieren",)
# Pages each scan must reach with a 200, or it did not scan what it claims to.
PUBLIC_PAGES = ("/inloggen", "/registreren", "/verifieren")
LEARNER_PAGES = ("/", "/account/profiel", "/account/wachtwoord", "/toetsen", "/pogingen/1/resultaat", "/pogingen/2")

# Findings judged false positives, each exactly: (category, method, path, parameter, info) -> why.
ALLOWED: dict[tuple[str, str, str, str, str], str] = {
    # wapiti 3.0.4 wants "X-XSS-Protection: 1". That header switched on the XSS filter of old browsers,
    # which current browsers have removed and which itself let pages leak data across sites (XS-Leaks);
    # OWASP's Secure Headers Project and MDN advise not to send it and to rely on a strict CSP, which
    # every response carries (script-src 'self', no inline script; tests/test_security_headers.py).
    ("HTTP Secure Headers", "GET", "/", "", "X-XSS-Protection is not set"): "obsolete header, CSP instead",
}

# Wapiti 3.0.4 (Debian bookworm) builds its --exclude patterns as `pattern\Z(?ms)`, which Python 3.11
# refuses ("global flags not at the start of the expression"), so any --exclude crashes it. This
# launcher builds the same pattern with the flags first, then runs wapiti's own main unchanged.
WAPITI_LAUNCHER = """
import re, sys
import wapitiCore.net.crawler as crawler
from wapitiCore.main.wapiti import wapiti_main

def wildcard_translate(pattern):
    return re.compile("(?ms)" + "".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\\Z")

crawler.wildcard_translate = wildcard_translate
sys.argv[0] = "wapiti"
sys.exit(wapiti_main())
"""


@dataclass(frozen=True)
class Finding:
    kind: str  # "vulnerability" or "anomaly" (wapiti's report), or "server log"
    category: str
    method: str
    path: str
    parameter: str
    info: str

    def __str__(self) -> str:
        if not self.method:
            return f"{self.kind}: {self.info}"
        where = f"{self.method} {self.path}" + (f" [{self.parameter}]" if self.parameter else "")
        return f"{self.kind}: {self.category}: {where}: {self.info}"


@dataclass
class Scan:
    name: str
    arguments: list[str]
    report: Path
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    crawled: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    attacked: dict[str, int] = field(default_factory=dict)  # module -> resources attacked
    # What would make the scan prove less than it seems: a module stopped by MAX_ATTACK_TIME, wapiti's
    # requests refused for a lost session, the learner's pages not reached.
    problems: list[str] = field(default_factory=list)


def wapiti_arguments(
    base: str,
    report: Path,
    work: Path,
    modules: tuple[str, ...] = MODULES,
    cookie_file: Path | None = None,
    start: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> list[str]:
    """wapiti's arguments: only `base` (https on 127.0.0.1), bounded, nothing sent anywhere else."""
    if not base.startswith("https://127.0.0.1:"):
        raise ValueError(f"scans target 127.0.0.1 only, not {base}")
    arguments = [
        "--url",
        f"{base}/",
        "--scope",
        "folder",
        "--module",
        ",".join(modules),
        "--scan-force",
        "paranoid",
        "--depth",
        str(DEPTH),
        "--max-scan-time",
        str(MAX_SCAN_TIME),
        "--max-attack-time",
        str(MAX_ATTACK_TIME),
        "--timeout",
        str(REQUEST_TIMEOUT),
        "--user-agent",
        USER_AGENT,
        "--flush-session",
        "--store-session",
        str(work / "session"),
        "--store-config",
        str(work / "config"),
        # Every form's CSRF token: a changed token only ever meets Flask-WTF's refusal (400), so attacking
        # it tests nothing of ours (tests/test_fuzz_forms.py sends junk tokens); the other fields are attacked.
        "--skip",
        "csrf_token",
        "--no-bugreport",  # wapiti would otherwise post a crash report to its authors
        "--verify-ssl",
        "1",  # against the scan's own certificate (REQUESTS_CA_BUNDLE)
        "--format",
        "json",
        "--output",
        str(report),
        "--verbose",
        "1",
    ]
    if cookie_file is not None:
        arguments += ["--cookie", str(cookie_file)]
    for url in start:
        arguments += ["--start", url]
    for url in exclude:
        arguments += ["--exclude", url]
    return arguments


def wapiti_python() -> str:
    """The interpreter Debian's wapiti runs on (its script's #! line): wapitiCore is installed there."""
    script = shutil.which("wapiti")
    if script is None:
        raise FileNotFoundError("wapiti is not installed (apt-get install wapiti)")
    return Path(script).read_text().splitlines()[0].removeprefix("#!").strip()


def cookie_file(session: requests.Session, path: Path) -> Path:
    """The session's cookies in wapiti's JSON cookie format: {domain: {path: {name: attributes}}}."""
    cookies: dict[str, dict[str, dict[str, dict]]] = {}
    for cookie in session.cookies:
        cookies.setdefault(cookie.domain, {}).setdefault(cookie.path, {})[cookie.name] = {
            "value": cookie.value,
            "expires": cookie.expires,
            "secure": cookie.secure,
            "port": None,
            "version": 0,
        }
    path.write_text(json.dumps(cookies, indent=2))
    return path


def findings(report: Path) -> list[Finding]:
    """Every vulnerability and anomaly in a wapiti JSON report, less the allow-listed ones."""
    data = json.loads(report.read_text())
    found = []
    for kind, section in (("vulnerability", "vulnerabilities"), ("anomaly", "anomalies")):
        for category, items in data[section].items():
            for item in items:
                key = (category, item["method"], item["path"], item["parameter"], item["info"])
                if key in ALLOWED:
                    continue
                found.append(Finding(kind, category, item["method"], item["path"], item["parameter"], item["info"]))
    return found


def session_database(work: Path) -> Path:
    (database,) = (work / "session").glob("*.db")
    return database


def crawled(work: Path) -> list[tuple[str, str, int]]:
    """What wapiti's crawler reached (its session database): (method, path, HTTP status)."""
    with sqlite3.connect(session_database(work)) as conn:
        return conn.execute("SELECT method, path, http_status FROM paths WHERE evil = 0 ORDER BY path_id").fetchall()


def attacked(work: Path) -> dict[str, int]:
    with sqlite3.connect(session_database(work)) as conn:
        rows = conn.execute("SELECT module_name, COUNT(*) FROM attack_log GROUP BY module_name").fetchall()
    return dict(rows)


# Flask-WTF logs these when a form comes with a session that is not the one its token came from: the
# scanner lost its session, and its attacks end at the CSRF check instead of reaching the views.
LOST_SESSION = re.compile(r"The CSRF session token is missing|The CSRF tokens do not match")
# Errors in the server's log: the app's (a 500, or a 503 for a database error, which wapiti does not
# count) and gunicorn's (a worker timing out or dying).
SERVER_ERROR = re.compile(r"^(?:\S+ \S+ (?:ERROR|CRITICAL) |\[[^]]+\] \[\d+\] \[(?:ERROR|CRITICAL)\] ).*$", re.M)


def run_wapiti(name: str, server: Server, certificate: Path, out: Path, **options) -> Scan:
    work = Path(tempfile.mkdtemp(prefix=f"wapiti-{name}-", dir=out))
    report = out / f"wapiti-{name}.json"
    log = out / f"wapiti-{name}.log"
    arguments = wapiti_arguments(server.base, report, work, modules(server.url), **options)
    # HOME in the work folder: wapiti keeps nothing in the user's home directory.
    env = {**os.environ, "HOME": str(work), "REQUESTS_CA_BUNDLE": str(certificate), "NO_PROXY": "127.0.0.1"}
    server_log_start = server.log.stat().st_size
    started = time.monotonic()
    with open(log, "w") as output:
        command = [wapiti_python(), "-c", WAPITI_LAUNCHER, *arguments]
        subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, check=True, env=env)
    seconds = time.monotonic() - started
    with open(server.log) as server_log:
        server_log.seek(server_log_start)
        server_lines = server_log.read()

    found = findings(report)
    found += [Finding("server log", "error", "", "", "", line) for line in SERVER_ERROR.findall(server_lines)]
    output = log.read_text()
    problems = [
        f"module {module} stopped after {MAX_ATTACK_TIME} s"
        for module in re.findall(r"Max attack time was reached for module (\w+)", output)
    ]
    if "Max scan time was reached" in output:
        problems.append(f"crawl stopped after {MAX_SCAN_TIME} s")
    if lost_session := len(LOST_SESSION.findall(server_lines)):
        problems.append(f"{lost_session} requests refused by the CSRF check for a lost session")
    return Scan(name, arguments, report, seconds, found, crawled(work), attacked(work), problems)


def reached(scan: Scan, base: str, paths: tuple[str, ...]) -> list[str]:
    """The paths the crawler did not get a 200 for."""
    ok = {path.removeprefix(base) for method, path, status in scan.crawled if method == "GET" and status == 200}
    return [path for path in paths if path not in ok]


def prepare_learner(session: requests.Session, base: str, email: str) -> None:
    """Sign in and leave a finished and an open attempt, so the scan reaches attempt and result pages."""
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Referer"] = f"{base}/"  # over https, Flask-WTF's CSRF check wants a same-site Referer
    response = login(session, base, email)
    if response.status_code != 302:
        raise RuntimeError(f"learner login failed: {response.status_code}")
    finished, open_quiz = LEARNER_QUIZZES
    if take_quiz(session, base, finished) != [200, 200]:
        raise RuntimeError(f"could not finish {finished}")
    token, _ = csrf(session, f"{base}/toetsen/{open_quiz}")
    if session.post(f"{base}/toetsen/{open_quiz}/starten", data={"csrf_token": token}, timeout=30).status_code != 200:
        raise RuntimeError(f"could not start {open_quiz}")


def run_scans(out: Path) -> list[Scan]:
    """Both scans against one fresh server; reports, logs and wapiti's state go under `out`.

    The server runs as in production: over https (a certificate made for the run), Secure cookies.
    """
    out.mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed_certificate(out)
    _url, env, (email,) = fresh_database(out, "hechtwijzer_scan", 1, SESSION_COOKIE_SECURE="1")
    with gunicorn(env, tls=(certificate, key)) as server, requests.Session() as session:
        # Only the scan's certificate, no proxy: requests lets REQUESTS_CA_BUNDLE override session.verify.
        session.trust_env = False
        session.verify = str(certificate)
        # Sign in first: the logged-out scan posts wrong passwords, and the login throttle counts them
        # per client address, so a login after it would be refused.
        prepare_learner(session, server.base, email)
        logged_out = run_wapiti(
            "uitgelogd",
            server,
            certificate,
            out,
            start=tuple(f"{server.base}{path}" for path in UNLINKED_PUBLIC_PAGES),
        )
        learner = run_wapiti(
            "cursist",
            server,
            certificate,
            out,
            cookie_file=cookie_file(session, out / "cursist-cookies.json"),
            exclude=(
                f"{server.base}/uitloggen",
                # The crawler submits every form it finds: it would start an attempt at every quiz and
                # then attack each one's forms alike. These forms hold only the CSRF token; the attempts
                # prepared above give it an open and a finished attempt to attack.
                f"{server.base}/toetsen/*/starten",
                f"{server.base}/toetsen/*/oefenen",
            ),
        )
        logged_out.problems += [f"not reached: {path}" for path in reached(logged_out, server.base, PUBLIC_PAGES)]
        learner.problems += [f"not reached: {path}" for path in reached(learner, server.base, LEARNER_PAGES)]
        if session.get(f"{server.base}/account/profiel", allow_redirects=False, timeout=30).status_code != 200:
            learner.problems.append("the learner's session no longer works after the scan")
    return [logged_out, learner]


def summary(scan: Scan) -> str:
    lines = [
        f"== wapiti, {scan.name}: {len(scan.findings)} finding(s), {scan.seconds:.0f} s, "
        f"{len(scan.crawled)} resources crawled",
        "   wapiti " + " ".join(scan.arguments),
        "   attacked (module: resources): " + ", ".join(f"{m}: {n}" for m, n in sorted(scan.attacked.items())),
    ]
    lines += [f"   {finding}" for finding in scan.findings]
    lines += [f"   scan incomplete: {problem}" for problem in scan.problems]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, help="folder for the JSON reports and logs (default: a temp folder)")
    args = parser.parse_args()
    if not shutil.which("wapiti"):
        sys.exit("wapiti is not installed (apt-get install wapiti); scripts/security-scan.sh installs it")
    out = args.output or Path(tempfile.mkdtemp(prefix="hechtwijzer-scan-"))
    scans = run_scans(out.resolve())
    for scan in scans:
        print(summary(scan))
    print(f"Reports and logs: {out}")
    return 1 if any(scan.findings or scan.problems for scan in scans) else 0


if __name__ == "__main__":
    sys.exit(main())
