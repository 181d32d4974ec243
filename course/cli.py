"""The `flask course` command group."""

from __future__ import annotations

import sys
import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from course import outbox, ratelimit
from course.auth import accounts, passwords, sessions, throttle, two_factor, verification
from course.catalog import ContentError, load_catalog
from course.extensions import db
from course.formatting import nl_count
from course.lti import keys as lti_keys
from course.lti import platforms as lti_platforms
from course.lti import roster as lti_roster
from course.lti import scores as lti_scores
from course.lti import tool as lti_tool
from course.models import Role
from course.names import InvalidName
from course.quizzes import blueprint, item_writing
from course.reminders import sending as reminders
from course.timeutil import local_date, utcnow
from course.trainer import progress, stored_analysis

course_cli = AppGroup("course", help="Hechtwijzer: inhoud controleren en accounts beheren.")

DEMO_ACCOUNTS = (
    ("cursist@example.org", "Demo Cursist", Role.LEARNER),
    ("trainer@example.org", "Demo Trainer", Role.TRAINER),
    ("beheer@example.org", "Demo Beheerder", Role.ADMIN),
)


def _load_or_exit():
    try:
        return load_catalog(current_app.config["CONTENT_DIR"], current_app.config["QUIZZES_DIR"])
    except ContentError as exc:
        click.echo(f"Inhoud ongeldig: {exc}", err=True)
        sys.exit(1)


@course_cli.command("check")
def check() -> None:
    """Validate content/ and quizzes/, then the blueprint, case-test and item-writing rules (docs/toetsplan.md);
    exit 1 naming file, id and rule."""
    catalog = _load_or_exit()
    problems = blueprint.blueprint_problems(catalog.blueprint, catalog.quizzes)
    for quiz in catalog.quizzes:
        problems += blueprint.case_content_problems(quiz)
    problems += item_writing.item_writing_problems(catalog.quizzes)
    if problems:
        click.echo(f"Inhoud ongeldig: {len(problems)} regel(s) geschonden.", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    sections = sum(len(lesson.sections) for lesson in catalog.lessons)
    questions = sum(len(quiz.all_questions) for quiz in catalog.quizzes)
    click.echo(
        f"Inhoud in orde: {len(catalog.lessons)} lessen, {sections} secties, "
        f"{len(catalog.glossary)} begrippen, {len(catalog.quizzes)} toetsen met {questions} vragen "
        f"(versie {catalog.module.content_version})."
    )


@course_cli.command("blueprint")
def print_blueprint() -> None:
    """Print the test blueprint: per graded test, goals x sections x levels with question counts."""
    catalog = _load_or_exit()
    for quiz in blueprint.graded(catalog.quizzes):
        per_attempt = (
            f"{quiz.vignettes_per_attempt} casussen per poging"
            if quiz.vignettes
            else f"{sum(d.count for d in quiz.draw) or len(quiz.questions)} vragen per poging"
        )
        click.echo(
            f"\n{quiz.title} ({blueprint.file_label(quiz.source_file)}): {len(quiz.all_questions)} vragen, {per_attempt}"
        )
        click.echo(blueprint.render_matrix(catalog.blueprint, quiz))


@course_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.LEARNER.value, show_default=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (keeps it out of the process list and shell history).",
)
def create_user(email: str, display_name: str, role: str, password_stdin: bool) -> None:
    """Create an account without prompts. Without --password-stdin a random password is printed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if message := passwords.problem(password, [display_name, email]):
            click.echo(f"Wachtwoord niet geschikt: {message}", err=True)
            sys.exit(1)
    else:
        password = passwords.generate()
    try:
        user = accounts.create_user(email, display_name, password, Role(role))
    except accounts.EmailInUse:
        click.echo("Er bestaat al een account met dit e-mailadres.", err=True)
        sys.exit(1)
    except InvalidName as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    # A printed password passes through other hands: like an admin's temporary password, it works once.
    user.must_change_password = not password_stdin
    # Nothing proved the address yet: a verification link goes out with the next `flask course send-mail`.
    mailed = _send_verification_link(user)
    db.session.commit()
    click.echo(f"Account {user.id} aangemaakt ({Role(role).label}).")
    if mailed:
        click.echo("Een link om het e-mailadres te bevestigen staat klaar in de outbox (flask course send-mail).")
    else:
        click.echo(
            "PUBLIC_BASE_URL is niet ingesteld: geen bevestigingslink gemaild. "
            "De gebruiker vraagt die aan op het overzicht na het inloggen."
        )
    if not password_stdin:
        click.echo("Bij de eerste keer inloggen kiest de gebruiker een eigen wachtwoord.")
        click.echo(f"Wachtwoord: {password}")


def _send_verification_link(user) -> bool:
    """Queue the verification mail; links need PUBLIC_BASE_URL outside a request (False without it)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return False
    with current_app.test_request_context("/"):
        verification.send_link(user, utcnow())
    return True


@course_cli.command("seed-demo")
def seed_demo() -> None:
    """Create or reset the demo accounts with fresh passwords and print them (local use only)."""
    click.echo("Demo-accounts (wachtwoorden zijn bij elke start nieuw):")
    for email, name, role in DEMO_ACCOUNTS:
        password = passwords.generate()
        user = accounts.find_user_by_email(email)
        if user is None:
            user = accounts.create_user(email, name, password, role, verified_at=utcnow())
        else:
            accounts.change_password(user, password)
            user.role = role
            user.active = True
        # Demo addresses (example.org) receive no mail: verified, so the demo learner gets a certificate.
        verification.mark_verified(user, utcnow())
        click.echo(f"  {role.label:<10} {email:<24} {password}")
    db.session.commit()


@course_cli.command("reset-two-factor")
@click.option("--email", required=True)
def reset_two_factor(email: str) -> None:
    """Switch off two-step sign-in for an account (the last admin who lost app and recovery codes).

    Audited without an actor (the server operator did it); ends the account's sessions. A role that
    requires it sets it up again at the next sign-in."""
    user = accounts.find_user_by_email(email)
    if user is None or not user.two_factor_enabled:
        click.echo("Geen account met tweestapsverificatie gevonden voor dit adres.", err=True)
        sys.exit(1)
    two_factor.disable(user, actor=None)
    sessions.end_all(user)
    db.session.commit()
    click.echo(f"Tweestapsverificatie uitgezet voor account {user.id}; open sessies zijn beëindigd.")


@course_cli.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running: look for due mail every --interval seconds.")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(min=1), help="Seconds between rounds.")
def send_mail(loop: bool, interval: int) -> None:
    """Deliver the mail waiting in the outbox (once, or with --loop until stopped)."""
    while True:
        report = outbox.send_due(outbox.MAIL)
        if report.handled or not loop:
            click.echo(
                f"Mail: {report.sent} verstuurd, {report.retrying} later opnieuw, {report.failed} definitief mislukt."
            )
        if not loop:
            return
        time.sleep(interval)


@course_cli.command("send-lti-scores")
@click.option("--loop", is_flag=True, help="Keep running: look for due scores every --interval seconds.")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(min=1), help="Seconds between rounds.")
def send_lti_scores(loop: bool, interval: int) -> None:
    """Post the scores waiting in the outbox to the LMSs (LTI Assignment and Grade Services)."""
    while True:
        report = outbox.send_due(lti_scores.KIND)
        if report.handled or not loop:
            click.echo(
                f"Scores: {report.sent} verstuurd, {report.retrying} later opnieuw, {report.failed} definitief mislukt."
            )
        if not loop:
            return
        time.sleep(interval)


@course_cli.command("send-reminders")
def send_reminders() -> None:
    """Write the reminders due today (Dutch date) to the outbox, each at most once; run it daily."""
    report = reminders.send_reminders(current_app.extensions["catalog"], utcnow())
    counts = ", ".join(f"{kind.label}: {count}" for kind, count in sorted(report.written.items()))
    click.echo(f"Herinneringen: {report.total} klaargezet{f' ({counts})' if counts else ''}.")


@course_cli.command("recompute-item-analyses")
def recompute_item_analyses() -> None:
    """Recompute every stored item analysis with newer finished attempts (run it hourly)."""
    quizzes = {quiz.id: quiz for quiz in current_app.extensions["catalog"].quizzes}
    recomputed, fresh = stored_analysis.recompute_stale(db.session, quizzes, utcnow())
    click.echo(f"Itemanalyses: {recomputed} opnieuw berekend, {fresh} al bij.")


@course_cli.command("prune")
def prune() -> None:
    """Delete what has expired: failed logins, rate-limit counts and sessions (run it from cron or a timer).

    Also brings the trainer dashboards up to date for today (deadlines passed, certificates ended);
    a dashboard does that for its own group as well, so this only saves its first visitor the work."""
    failures = throttle.prune_expired()
    hits = ratelimit.prune_expired()
    ended = sessions.prune_expired()
    lti_tool.prune_expired()
    progress.apply_pending(db.session())
    changed = progress.bring_up_to_date(
        db.session.connection(), local_date(utcnow()), current_app.extensions["catalog"]
    )
    db.session.commit()
    click.echo(
        f"Opgeruimd: {failures} mislukte inlogpogingen, {hits} tellingen van verzoeklimieten, {ended} verlopen sessies; "
        f"{changed} cursisten met een nieuwe status op het groepsoverzicht."
    )


@course_cli.command("rebuild-progress")
def rebuild_progress() -> None:
    """Recompute every group's dashboard rows and counts from the lesson reads, attempts and certificates."""
    groups = progress.rebuild_all(db.session.connection(), current_app.extensions["catalog"])
    db.session.commit()
    click.echo(f"Voortgang opnieuw berekend voor {nl_count(groups, 'groep', 'groepen')}.")


@course_cli.command("lti-register")
@click.option("--name", required=True, help="A name for the platform, e.g. 'Moodle Hogeschool'.")
@click.option("--issuer", required=True, help="The platform's issuer (platform ID).")
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="Repeat for several.")
@click.option("--auth-login-url", required=True, help="The platform's authentication request URL.")
@click.option("--token-url", required=True, help="The platform's access token URL.")
@click.option("--jwks-url", required=True, help="The platform's public keyset URL.")
def lti_register(name, issuer, client_id, deployment_ids, auth_login_url, token_url, jwks_url) -> None:
    """Register an LTI 1.3 platform (LMS) that may launch the module."""
    details = lti_platforms.PlatformDetails(
        name, issuer, client_id, list(deployment_ids), auth_login_url, token_url, jwks_url
    )
    try:
        platform = lti_platforms.register(details, actor_id=None)
    except lti_platforms.InvalidRegistration as error:
        click.echo(f"Niet geregistreerd: {error}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Platform {platform.id} geregistreerd ({platform.name}).")


@course_cli.group("lti-keys")
def lti_keys_group() -> None:
    """The tool's LTI signing keys (files in LTI_KEY_DIR, never in the database)."""


@lti_keys_group.command("rotate")
def lti_keys_rotate() -> None:
    """Make a new signing key; the previous one stays published for LTI_KEY_OVERLAP_HOURS."""
    key, removed = lti_keys.rotate()
    click.echo(f"Nieuwe sleutel {key.kid} in gebruik.")
    if removed:
        click.echo(f"Verwijderd (overlap voorbij): {', '.join(removed)}.")


@lti_keys_group.command("list")
def lti_keys_list() -> None:
    """Show the keys in the public JWKS, newest (the one in use) first."""
    published = lti_keys.published()
    if not published:
        click.echo("Nog geen sleutel: maak er een met `flask course lti-keys rotate`.")
    for key in published:
        click.echo(f"{key.kid} (aangemaakt {utcnow().fromtimestamp(key.created, utcnow().tzinfo):%Y-%m-%d %H:%M} UTC)")


@course_cli.command("lti-sync")
def lti_sync() -> None:
    """Read every LMS course's roster (NRPS): linked learners join its group, learners gone from it leave."""
    from course.models import LtiContext

    failed = 0
    for context_id in db.session.scalars(sa.select(LtiContext.id).order_by(LtiContext.id)).all():
        context = db.session.get(LtiContext, context_id)
        try:
            report = lti_roster.sync(context)
        except Exception as error:  # a platform that is down: the next run tries again, nothing changed
            db.session.rollback()
            failed += 1
            click.echo(f"Cursus {context_id}: niet bijgewerkt ({type(error).__name__}).", err=True)
            continue
        db.session.commit()
        click.echo(f"Cursus {context_id}: {report.joined} erbij, {report.left} eruit.")
    if failed:
        sys.exit(1)
