from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from course import failpoints
from course.catalog.access import get_catalog
from course.certificates.issuing import award_if_complete
from course.extensions import db
from course.formatting import nl_count, nl_percent, nl_time
from course.lessons import guidance
from course.lti import scores as lti_scores
from course.models import Attempt, AttemptMode
from course.quizzes import attempts as ops
from course.quizzes import policy
from course.quizzes.definitions import Quiz, QuizKind
from course.quizzes.forms import ActionForm
from course.quizzes.presenting import present
from course.quizzes.responses import TamperedSubmission
from course.timeutil import utcnow

bp = Blueprint("quizzes", __name__)
log = logging.getLogger(__name__)

STALE_MESSAGE = (
    "Deze poging is intussen in een ander venster of tabblad gewijzigd. Er is niets opgeslagen van dit "
    "formulier. Je ziet hieronder de actuele stand; controleer je antwoorden en ga verder."
)
FINISHED_MESSAGE = "Deze poging was al afgerond. Er is niets gewijzigd; hieronder zie je de uitslag."
TAMPERED_MESSAGE = "Het formulier past niet bij deze poging. Er is niets opgeslagen. Laad de pagina opnieuw."
KIND_LABELS = {QuizKind.FORMATIVE: "Kennischeck", QuizKind.SUMMATIVE: "Eindtoets", QuizKind.VIGNETTE: "Casustoets"}


@bp.app_context_processor
def quiz_labels() -> dict:
    return {"quiz_kind_labels": KIND_LABELS}


def _quiz_or_404(quiz_id: str):
    return get_catalog().quiz(quiz_id) or abort(404)


def _own_attempt_or_404(attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    # Someone else's attempt is "not found", not "forbidden": ids reveal nothing.
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


@bp.get("/toetsen")
@login_required
def index():
    catalog = get_catalog()
    now = utcnow()
    standings = ops.all_standings(current_user, catalog, now)
    rows = [(quiz, standings[quiz.id]) for quiz in catalog.quizzes]
    return render_template("quizzes/index.html", rows=rows)


@bp.get("/toetsen/<quiz_id>")
@login_required
def detail(quiz_id: str):
    quiz = _quiz_or_404(quiz_id)
    attempts = ops.graded_attempts(current_user.id, quiz.id)
    standing = policy.standing(quiz, attempts, utcnow(), ops.extra_attempts(current_user.id, quiz.id).get(quiz.id, 0))
    return render_template(
        "quizzes/detail.html",
        quiz=quiz,
        standing=standing,
        attempts=sorted(attempts, key=lambda a: a.number, reverse=True),
        form=ActionForm(),
        **_practice_offer(quiz, standing),
    )


def _practice_offer(quiz: Quiz, standing: policy.Standing) -> dict:
    """How many mistakes the learner can practise now, and why not when the policy keeps them closed."""
    mistakes = len(ops.mistakes(current_user.id, quiz))
    closed = policy.practice_blocked_reason(quiz, standing) if mistakes else None
    return {"mistakes": 0 if closed else mistakes, "practice_closed": closed}


@bp.post("/toetsen/<quiz_id>/starten")
@login_required
def start(quiz_id: str):
    quiz = _quiz_or_404(quiz_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        attempt = ops.start_attempt(current_user, quiz, utcnow(), get_catalog().module.content_version)
    except ops.AttemptNotAllowed as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("quizzes.detail", quiz_id=quiz.id))
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


@bp.post("/toetsen/<quiz_id>/oefenen")
@login_required
def practise(quiz_id: str):
    quiz = _quiz_or_404(quiz_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        attempt = ops.start_practice(current_user, quiz, get_catalog().module.content_version, utcnow())
    except ops.PracticeClosed as exc:
        db.session.rollback()
        flash(str(exc), "info")
        return redirect(url_for("quizzes.detail", quiz_id=quiz.id))
    except ops.NothingToPractise:
        db.session.rollback()
        flash("Je hebt bij deze toets geen fouten om te oefenen.", "info")
        return redirect(url_for("quizzes.detail", quiz_id=quiz.id))
    except ops.StaleAttempt:
        db.session.rollback()
        flash("Er is al een oefenronde gestart; probeer het opnieuw.", "info")
        return redirect(url_for("quizzes.detail", quiz_id=quiz.id))
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


@bp.get("/pogingen/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    attempt = _own_attempt_or_404(attempt_id)
    if attempt.is_finished:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    quiz = _quiz_or_404(attempt.quiz_id)
    items = ops.load_items(attempt)
    last = ops.last_page(attempt, items, quiz)
    blocks = present(
        quiz, get_catalog(), items, open_page=attempt.page, show_key=False, decisions=_decisions_of(attempt)
    )
    # The question panel and the counts cover the open page: earlier stages of a case are locked.
    open_questions = [q for block in blocks for q in block.questions if q.editable]
    return render_template(
        "quizzes/attempt.html",
        quiz=quiz,
        attempt=attempt,
        blocks=blocks,
        open_questions=open_questions,
        total_questions=len(items),
        is_last_page=attempt.page >= last,
        pages=last + 1,
        confirm_incomplete=session.get("confirm_finish") == attempt.id,
    )


def _decisions_of(attempt: Attempt) -> dict[tuple[str, str], str] | None:
    """The route taken through branching cases; a practice round has none (and shows no decisions)."""
    return None if attempt.mode is AttemptMode.PRACTICE else ops.load_decisions(attempt)


def _expected_revision() -> int | None:
    value = request.form.get("revision", "")
    # ASCII digits only ("²".isdigit() is true, but int() refuses it); 9 digits always fit INTEGER.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _check_csrf() -> None:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400)


def _refused(attempt: Attempt, message: str, status: int):
    """A rejected save/finish: nothing changed; tell the learner and show the current state."""
    db.session.rollback()
    if _wants_json():
        return jsonify(error=message), status
    flash(message, "warning")
    target = "quizzes.result" if db.session.get(Attempt, attempt.id).is_finished else "quizzes.attempt"
    return redirect(url_for(target, attempt_id=attempt.id))


def _open_posted_attempt(attempt_id: int):
    """CSRF, ownership, still open, a revision: ((attempt, revision, quiz, items), None) or (None, refusal)."""
    _check_csrf()
    attempt = _own_attempt_or_404(attempt_id)
    if attempt.is_finished:
        return None, _refused(attempt, FINISHED_MESSAGE, 409)
    revision = _expected_revision()
    if revision is None:
        return None, _refused(attempt, TAMPERED_MESSAGE, 400)
    quiz = _quiz_or_404(attempt.quiz_id)
    return (attempt, revision, quiz, ops.load_items(attempt)), None


def _refusal_for(attempt: Attempt, error: Exception):
    if isinstance(error, TamperedSubmission):
        log.warning("Poging %s: formulier past niet bij de poging", attempt.id)
        return _refused(attempt, TAMPERED_MESSAGE, 400)
    if isinstance(error, ops.AlreadyFinished):
        return _refused(attempt, FINISHED_MESSAGE, 409)
    return _refused(attempt, STALE_MESSAGE, 409)


@bp.post("/pogingen/<int:attempt_id>/opslaan")
@login_required
def save(attempt_id: int):
    posted, refusal = _open_posted_attempt(attempt_id)
    if refusal is not None:
        return refusal
    attempt, revision, quiz, items = posted
    advance = request.form.get("action") == "next"
    try:
        outcome = ops.save_answers(attempt, items, quiz, request.form, revision, advance=advance)
    except (TamperedSubmission, ops.StaleAttempt) as error:
        return _refusal_for(attempt, error)
    db.session.commit()
    if _wants_json():
        return jsonify(revision=outcome.revision, saved_at=nl_time(utcnow(), seconds=True))
    if outcome.needs_decision:
        flash("Je antwoorden zijn opgeslagen. Kies eerst hoe je verdergaat met de casus.", "warning")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))
    flash("Je antwoorden zijn opgeslagen." if not advance else "Opgeslagen. De casus gaat verder.", "success")
    # After a case stage the page opens at the new stage, not at the top of the locked ones.
    anchor = f"deel-{outcome.page + 1}" if advance else None
    return redirect(url_for("quizzes.attempt", attempt_id=attempt_id, _anchor=anchor))


@bp.post("/pogingen/<int:attempt_id>/afronden")
@login_required
def finish(attempt_id: int):
    posted, refusal = _open_posted_attempt(attempt_id)
    if refusal is not None:
        return refusal
    attempt, revision, quiz, items = posted
    try:
        confirmed = bool(request.form.get("confirm_incomplete"))
        unanswered = 0 if confirmed else ops.unanswered_after(attempt, items, quiz, request.form)
        flagged = 0 if confirmed else ops.flagged_after(attempt, items, quiz, request.form)
        if unanswered or flagged:
            # Keep what was answered, and ask once whether to finish anyway (the page lists which questions).
            ops.save_answers(attempt, items, quiz, request.form, revision)
            db.session.commit()
            session["confirm_finish"] = attempt_id
            flash(_still_open_message(unanswered, flagged), "warning")
            return redirect(url_for("quizzes.attempt", attempt_id=attempt_id, _anchor="afronden"))
        result = ops.finish_attempt(attempt, items, quiz, request.form, revision, utcnow())
        graded = attempt.mode is AttemptMode.GRADED  # read before commit expires the object
        if graded:  # to the LMS line items placed for this test, in this transaction (outbox)
            lti_scores.report_attempt(current_user.id, quiz.id, result.percent, utcnow())
    except (TamperedSubmission, ops.StaleAttempt) as error:
        return _refusal_for(attempt, error)
    failpoints.pause("finish-before-commit")
    db.session.commit()
    session.pop("confirm_finish", None)
    log.info("Poging %s afgerond", attempt_id)
    catalog = get_catalog()
    new_certificate = False
    if result.passed and graded and quiz.id in catalog.module.completion.quizzes_passed:
        _, new_certificate = award_if_complete(current_user, catalog, utcnow())
    if new_certificate:
        flash("Gefeliciteerd! Je hebt de module afgerond. Je certificaat staat klaar onder Certificaten.", "success")
    if result.passed is True:
        flash(f"Geslaagd met {nl_percent(result.percent)}.", "success")
    elif result.passed is False:
        flash(
            f"Niet geslaagd: {nl_percent(result.percent)} (cesuur {nl_percent(quiz.policy.pass_mark_percent)}).",
            "warning",
        )
    else:
        flash(f"Afgerond: {nl_percent(result.percent)} goed.", "info")
    return redirect(url_for("quizzes.result", attempt_id=attempt_id))


def _still_open_message(unanswered: int, flagged: int) -> str:
    parts = []
    if unanswered:
        parts.append(f"{nl_count(unanswered, 'vraag', 'vragen')} niet beantwoord")
    if flagged:
        parts.append(f"{nl_count(flagged, 'vraag', 'vragen')} gemarkeerd voor later")
    return f"Je hebt nog {' en '.join(parts)}. Onderaan staat welke; bekijk ze, of bevestig daar dat je toch wilt afronden."


@bp.get("/pogingen/<int:attempt_id>/resultaat")
@login_required
def result(attempt_id: int):
    attempt = _own_attempt_or_404(attempt_id)
    if not attempt.is_finished:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    quiz = _quiz_or_404(attempt.quiz_id)
    standing = ops.current_standing(current_user, quiz, utcnow())
    # A practice round follows its quiz's review policy like a graded attempt does (issue 10).
    show_key = policy.answers_visible(quiz, standing)
    items = ops.load_items(attempt)
    step = guidance.for_learner(current_user, get_catalog(), utcnow())
    if step is not None and step.kind in {"quiz", "resume"} and step.target_id == quiz.id:
        step = None  # this page already offers a new attempt or the way back to this test
    return render_template(
        "quizzes/result.html",
        next_step=step,
        quiz=quiz,
        attempt=attempt,
        standing=standing,
        show_key=show_key,
        show_right_wrong=show_key or quiz.policy.review.value != "never",
        blocks=present(quiz, get_catalog(), items, open_page=None, show_key=show_key, decisions=_decisions_of(attempt)),
        form=ActionForm(),
        **_practice_offer(quiz, standing),
    )
