from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from course import paging, search_terms
from course.auth.access import role_required
from course.catalog.access import get_catalog
from course.extensions import db
from course.formatting import nl_date
from course.lessons import reflections
from course.models import (
    Attempt,
    AttemptMode,
    AttemptStatus,
    Group,
    GroupMember,
    Invitation,
    Role,
    User,
)
from course.quizzes import attempts as quiz_attempts
from course.quizzes.definitions import Quiz
from course.quizzes.presenting import present
from course.timeutil import local_date, utcnow
from course.trainer import actions, charts, dashboard, exports, groups, stored_analysis
from course.trainer import item_analysis as analysis
from course.trainer.forms import AssignForm, CsvForm, EmptyForm, GroupForm, InviteForm, ReasonForm

bp = Blueprint("trainer", __name__, url_prefix="/trainer")
# The group chart's order: from done to behind, as a trainer reads progress.
CHART_STATES = ("afgerond", "bezig", "niet gestart", "te laat")
trainers = role_required(Role.TRAINER, Role.ADMIN)
# A learner's attempts on the trainer's page of that learner (knowledge checks allow unlimited attempts).
ATTEMPTS_PER_PAGE = 50


def _own_group_or_404(group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    # Another trainer's group does not exist for you; admins may look at every group.
    if group is None or (group.trainer_id != current_user.id and not current_user.has_role(Role.ADMIN)):
        abort(404)
    return group


def _member_or_404(group: Group, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not groups.is_member(group.id, user.id):
        abort(404)
    return user


def _own_groups() -> list[Group]:
    return list(db.session.scalars(sa.select(Group).where(Group.trainer_id == current_user.id).order_by(Group.name)))


@bp.get("/")
@trainers
def index():
    own = _own_groups()
    counts = dict(
        db.session.execute(
            sa.select(GroupMember.group_id, sa.func.count())
            .where(GroupMember.group_id.in_([g.id for g in own]))
            .group_by(GroupMember.group_id)
        ).all()
    )
    return render_template("trainer/index.html", groups=own, counts=counts, form=GroupForm())


@bp.post("/groepen")
@trainers
def create_group():
    form = GroupForm()
    if not form.validate_on_submit():
        flash(next(iter(form.name.errors), "Geef de groep een naam (hoogstens 120 tekens)."), "error")
        return redirect(url_for("trainer.index"))
    group = groups.create_group(current_user, form.name.data)
    db.session.commit()
    flash(f"Groep ‘{group.name}’ is aangemaakt.", "success")
    return redirect(url_for("trainer.group", group_id=group.id))


@bp.get("/groepen/<int:group_id>")
@trainers
def group(group_id: int):
    group = _own_group_or_404(group_id)
    catalog = get_catalog()
    today = local_date(utcnow())
    group_due = groups.saved_due_on(group, catalog.module.id)
    args = request.args
    view = dashboard.View.checked(
        args.get("sorteer"),
        args.get("volgorde"),
        args.get("status"),
        search_terms.recall(_search_page(group)),
        paging.requested_page(args.get("pagina")),
    )
    board = dashboard.group_page(group.id, catalog, today, view)
    if board.refreshed:
        db.session.commit()  # the statuses the date changed (a deadline passed) stay changed
    completed = board.completed_per_day
    started = min([local_date(group.created_at), *completed])
    return render_template(
        "trainer/group.html",
        state_chart=charts.state_chart(board.counts, CHART_STATES),
        chart_states=CHART_STATES,
        progress_chart=charts.progress_chart(completed, board.total, started, today, group_due),
        progress_points=charts.cumulative(completed, started, today),
        group_due=group_due,
        group=group,
        rows=board.rows,
        total=board.total,
        shown=board.shown,
        counts=board.counts,
        paging=board.paging,
        view=view,
        invitations=groups.invitation_rows(group, utcnow()),
        required=[catalog.quiz(q) for q in catalog.module.completion.quizzes_passed],
        invite_form=InviteForm(),
        csv_form=CsvForm(),
        assign_form=AssignForm(due_on=group_due),
        empty_form=EmptyForm(),
        search_form=search_terms.SearchForm(),
        today=today,
    )


def _search_page(group: Group) -> str:
    return f"trainer.group:{group.id}"


@bp.post("/groepen/<int:group_id>")
@trainers
def search_group(group_id: int):
    """The filter form: the search term goes to the session, the rest of the filter into the URL."""
    group = _own_group_or_404(group_id)
    search_terms.take_from_form(_search_page(group))
    form = request.form
    view = {
        "status": form.get("status") if form.get("status") in dashboard.STATUS_ORDER else None,
        "sorteer": form.get("sorteer") if form.get("sorteer") in dashboard.SORTS else None,
        "volgorde": "aflopend" if form.get("volgorde") == "aflopend" else None,
    }
    return redirect(url_for("trainer.group", group_id=group.id, **{k: v for k, v in view.items() if v}))


@bp.post("/groepen/<int:group_id>/uitnodigen")
@trainers
def invite(group_id: int):
    group = _own_group_or_404(group_id)
    form = InviteForm()
    if not form.validate_on_submit():
        flash("Vul een e-mailadres in.", "error")
        return redirect(url_for("trainer.group", group_id=group.id))
    outcome = groups.invite(group, form.email.data, current_user)
    if outcome.ok:
        db.session.commit()
        flash(INVITED if outcome.result == "uitgenodigd" else "Deze cursist zat al in de groep.", "success")
    else:
        db.session.rollback()
        flash(f"Niet uitgenodigd: {outcome.result}.", "error")
    return redirect(url_for("trainer.group", group_id=group.id))


# One answer for every address: whether it has an account, and which, is not the trainer's to learn.
INVITED = (
    "De uitnodiging is verstuurd. Wie de uitnodiging accepteert, komt in de groep; tot dan staat het adres "
    "hieronder bij de uitnodigingen."
)


@bp.post("/groepen/<int:group_id>/uitnodigingen/<int:invitation_id>/opnieuw")
@trainers
def resend_invitation(group_id: int, invitation_id: int):
    group = _own_group_or_404(group_id)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.group_id != group.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    outcome = groups.invite(group, invitation.email, current_user)
    if not outcome.ok:
        db.session.rollback()
        flash(f"Niet opnieuw verstuurd: {outcome.result}.", "error")
    elif outcome.result == "al lid":
        flash("Deze cursist zat al in de groep.", "success")
    else:
        db.session.commit()
        flash(INVITED, "success")
    return redirect(url_for("trainer.group", group_id=group.id))


@bp.post("/groepen/<int:group_id>/csv")
@trainers
def upload_csv(group_id: int):
    group = _own_group_or_404(group_id)
    form = CsvForm()
    if not form.validate_on_submit():
        flash("Kies een CSV-bestand.", "error")
        return redirect(url_for("trainer.group", group_id=group.id))
    try:
        emails = groups.read_invite_csv(form.file.data.read(groups.MAX_CSV_BYTES + 1))
    except groups.CsvRejected as exc:
        return render_template(
            "trainer/csv_report.html", group=group, message=str(exc), report=exc.report, applied=False
        ), 400
    report = [groups.invite(group, email, current_user) for email in emails]
    db.session.commit()
    return render_template("trainer/csv_report.html", group=group, message=None, report=report, applied=True)


@bp.post("/groepen/<int:group_id>/code")
@trainers
def renew_code(group_id: int):
    group = _own_group_or_404(group_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    groups.renew_code(group, current_user)
    db.session.commit()
    flash("Er is een nieuwe groepscode gemaakt; de oude werkt niet meer.", "success")
    return redirect(url_for("trainer.group", group_id=group.id))


@bp.post("/groepen/<int:group_id>/opdracht")
@trainers
def assign(group_id: int):
    group = _own_group_or_404(group_id)
    form = AssignForm()
    learner = None
    if form.learner_id.data:
        # ASCII digits only ("²".isdigit() is true, but int() refuses it); 9 digits always fit an id.
        if not (form.learner_id.data.isascii() and form.learner_id.data.isdigit()) or len(form.learner_id.data) > 9:
            abort(400)
        learner = _member_or_404(group, int(form.learner_id.data))
    if not form.validate_on_submit():
        flash(" ".join(form.due_on.errors) or "Kies een geldige datum.", "error")
    else:
        groups.assign(group, get_catalog().module.id, form.due_on.data, current_user, learner)
        db.session.commit()
        flash(f"Deadline vastgelegd: {nl_date(form.due_on.data, 'long')}.", "success")
    if learner is not None:
        return redirect(url_for("trainer.learner", group_id=group.id, user_id=learner.id))
    return redirect(url_for("trainer.group", group_id=group.id))


@bp.get("/groepen/<int:group_id>/cursisten/<int:user_id>")
@trainers
def learner(group_id: int, user_id: int):
    group = _own_group_or_404(group_id)
    learner = _member_or_404(group, user_id)
    catalog = get_catalog()
    counted = sa.and_(Attempt.user_id == learner.id, Attempt.mode.in_([AttemptMode.GRADED, AttemptMode.VOIDED]))
    attempt_pages = paging.Paging.of(
        paging.requested_page(request.args.get("pagina")),
        db.session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(counted)),
        ATTEMPTS_PER_PAGE,
    )
    attempts = db.session.scalars(
        sa.select(Attempt)
        .where(counted)
        .order_by(Attempt.quiz_id, Attempt.number, Attempt.id)
        .limit(attempt_pages.per_page)
        .offset(attempt_pages.offset)
    ).all()
    today = local_date(utcnow())
    row = dashboard.learner_row(group.id, catalog, today, learner.id)
    return render_template(
        "trainer/learner.html",
        group=group,
        learner=learner,
        row=row,
        attempts=attempts,
        attempt_pages=attempt_pages,
        standings=quiz_attempts.all_standings(learner, catalog, utcnow()),
        reason_form=ReasonForm(),
        assign_form=AssignForm(
            learner_id=str(learner.id), due_on=groups.saved_due_on(group, catalog.module.id, learner)
        ),
        # Only what the learner chose to share; private reflections never reach a trainer's page.
        shared_reflections=reflections.shared_reflections(learner.id, catalog.module.id),
    )


@bp.post("/groepen/<int:group_id>/cursisten/<int:user_id>/extra-poging")
@trainers
def grant_extra(group_id: int, user_id: int):
    group = _own_group_or_404(group_id)
    learner = _member_or_404(group, user_id)
    form = ReasonForm()
    quiz = get_catalog().quiz(form.quiz_id.data or "")
    if quiz is None or quiz.policy.max_attempts is None:
        abort(400)
    passed = quiz_attempts.all_standings(learner, get_catalog(), utcnow())[quiz.id].passed
    if not form.validate_on_submit():
        flash("Geef een reden op (5 tot 500 tekens).", "error")
    elif passed and request.form.get("confirm_passed") != "ja":
        # Warned in the form; an extra attempt after passing is rarely meant (it can lower a "last" score).
        flash(
            f"{learner.display_name} is al geslaagd voor {quiz.title}. Vink aan dat je toch een extra poging "
            "wilt geven; er is niets gewijzigd.",
            "error",
        )
    else:
        actions.grant_extra_attempt(current_user, learner, quiz.id, form.reason.data)
        db.session.commit()
        flash(f"{learner.display_name} heeft een extra poging voor {quiz.title}.", "success")
    return redirect(url_for("trainer.learner", group_id=group.id, user_id=learner.id))


def _group_attempt_or_404(group: Group, attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not groups.is_member(group.id, attempt.user_id):
        abort(404)
    return attempt


@bp.post("/groepen/<int:group_id>/pogingen/<int:attempt_id>/ongedaan-maken")
@trainers
def reset_attempt(group_id: int, attempt_id: int):
    group = _own_group_or_404(group_id)
    attempt = _group_attempt_or_404(group, attempt_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Geef een reden op (5 tot 500 tekens).", "error")
    else:
        try:
            actions.reset_attempt(current_user, attempt, form.reason.data, utcnow())
        except actions.NotResettable:
            db.session.rollback()
            flash("Deze poging was al ongedaan gemaakt of telt niet mee.", "info")
        else:
            db.session.commit()
            flash("De poging is ongedaan gemaakt en telt niet meer mee.", "success")
    return redirect(url_for("trainer.learner", group_id=group.id, user_id=attempt.user_id))


@bp.get("/groepen/<int:group_id>/pogingen/<int:attempt_id>")
@trainers
def attempt_review(group_id: int, attempt_id: int):
    group = _own_group_or_404(group_id)
    attempt = _group_attempt_or_404(group, attempt_id)
    catalog = get_catalog()
    quiz = catalog.quiz(attempt.quiz_id) or abort(404)
    learner = db.session.get(User, attempt.user_id)
    finished = attempt.status is AttemptStatus.FINISHED
    return render_template(
        "trainer/attempt.html",
        group=group,
        learner=learner,
        quiz=quiz,
        attempt=attempt,
        blocks=present(
            quiz,
            catalog,
            quiz_attempts.load_items(attempt),
            open_page=None if finished else attempt.page,
            show_key=finished,
            allow_edit=False,
            decisions=None if attempt.mode is AttemptMode.PRACTICE else quiz_attempts.load_decisions(attempt),
        ),
        finished=finished,
    )


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _SentFile:
    """A temporary file sent in pieces and closed (so removed) once read to the end, when the server
    closes the response (a broken-off download), or when dropped unread (a HEAD request, a test)."""

    CHUNK = 64 * 1024

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.file.read(self.CHUNK):
            yield chunk
        self.close()

    def close(self) -> None:
        self.file.close()

    def __del__(self) -> None:
        self.close()


@bp.get("/groepen/<int:group_id>/accreditatie.csv")
@trainers
def export_csv(group_id: int):
    """Streamed: rows are read in batches and sent as they come (memory stays flat at any size)."""
    group = _own_group_or_404(group_id)
    rows = exports.iter_export_rows(group, get_catalog().module.id)
    return Response(
        stream_with_context(exports.csv_chunks(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="accreditatie.csv"'},
    )


@bp.get("/groepen/<int:group_id>/accreditatie.xlsx")
@trainers
def export_xlsx(group_id: int):
    """Built row by row in a temporary file, then sent in pieces with its length: a workbook is only
    readable once complete, so a failure while building is an ordinary error page, and a download
    broken off later is shorter than its Content-Length (see docs/decisions.md)."""
    group = _own_group_or_404(group_id)
    file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _SentFile once sent, or below
    try:
        exports.write_xlsx(exports.iter_export_rows(group, get_catalog().module.id), file)
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return Response(
        _SentFile(file),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": 'attachment; filename="accreditatie.xlsx"', "Content-Length": str(size)},
        direct_passthrough=True,
    )


def _analysis_scope(quiz_id: str) -> tuple[Quiz, list[Group], int | None, list[int]]:
    """The quiz, the trainer's groups, the chosen group (None: all of them) and the group ids in scope."""
    quiz = get_catalog().quiz(quiz_id) or abort(404)
    own = _own_groups()
    selected = request.values.get("groep", type=int)
    scope = [g.id for g in own if selected is None or g.id == selected]
    if selected is not None and not scope:
        abort(404)
    return quiz, own, selected, scope


@bp.get("/toetsen/<quiz_id>/analyse")
@trainers
def item_analysis(quiz_id: str):
    quiz, own, selected, group_ids = _analysis_scope(quiz_id)
    shown = stored_analysis.current(db.session, quiz, current_user.id, selected, group_ids, utcnow())
    db.session.commit()  # a result computed on this first view is kept for the next
    stats = shown.analysis.stats
    return render_template(
        "trainer/item_analysis.html",
        quiz=quiz,
        stats=stats,
        overview_chart=charts.item_overview(
            [(number, s.facility, s.discrimination) for number, s in enumerate(stats, start=1)]
        ),
        option_charts=[
            charts.option_chart([(o.label, o.count, o.share, o.correct) for o in s.options]) if s.answered else None
            for s in stats
        ],
        reliability=shown.analysis.reliability,
        attempts=shown.analysis.attempts,
        computed_at=shown.analysis.computed_at,
        newer=shown.newer,
        min_answers=analysis.MIN_ANSWERS_FOR_FLAGS,
        groups=own,
        selected=selected,
        form=EmptyForm(),
    )


@bp.post("/toetsen/<quiz_id>/analyse/opnieuw")
@trainers
def recompute_item_analysis(quiz_id: str):
    quiz, _, selected, group_ids = _analysis_scope(quiz_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    now = utcnow()
    if stored_analysis.too_soon(stored_analysis.stored_row(db.session, quiz.id, current_user.id, selected), now):
        flash("De itemanalyse is minder dan een minuut geleden berekend. Probeer het over een minuut opnieuw.", "error")
    else:
        stored_analysis.compute(db.session, quiz, current_user.id, selected, group_ids, now)
        db.session.commit()
        flash("De itemanalyse is opnieuw berekend.", "success")
    return redirect(url_for("trainer.item_analysis", quiz_id=quiz.id, groep=selected))
