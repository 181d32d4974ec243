from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from course.auth.forms import ResendVerificationForm
from course.catalog.access import get_catalog
from course.certificates.issuing import award_if_complete, certificates_of, learner_completion, since_last
from course.extensions import db
from course.lessons import guidance, progress, reflections, rendering
from course.lessons.forms import DeleteReflectionForm, MarkReadForm, ReflectionForm, ShareReflectionForm
from course.quizzes.attempts import all_standings
from course.timeutil import local_date, utcnow
from course.trainer.forms import AnswerInvitationForm
from course.trainer.groups import assignments_for, pending_invitations_for

bp = Blueprint("lessons", __name__)


@bp.get("/")
def index():
    catalog = get_catalog()
    if not current_user.is_authenticated:
        return render_template("lessons/index.html", read_ids=set(), summary=progress.course_progress(catalog, set()))
    now = utcnow()
    # Self-healing: if issuing after the last step failed, the dashboard issues it now.
    certificate, _ = award_if_complete(current_user, catalog, now)
    read_ids = progress.read_lesson_ids(current_user)
    earlier = certificates_of(current_user.id, catalog.module.id)
    standings = all_standings(current_user, catalog, now)
    completion = learner_completion(current_user, catalog, None if certificate else since_last(earlier))
    return render_template(
        "lessons/index.html",
        read_ids=read_ids,
        summary=progress.course_progress(catalog, read_ids),
        standings=standings,
        completion=completion,
        next_step=guidance.next_step(catalog, completion, standings, certificate, bool(read_ids)),
        certificate=certificate,
        earlier_certificates=earlier,
        assignments=assignments_for(current_user.id, catalog.module.id),
        invitations=pending_invitations_for(current_user),
        answer_form=AnswerInvitationForm(),
        resend_form=ResendVerificationForm(),
        today=local_date(now),
    )


@bp.get("/lessen/<lesson_id>")
@login_required
def lesson(lesson_id: str):
    catalog = get_catalog()
    lesson = catalog.lesson(lesson_id) or abort(404)
    return _lesson_page(lesson)


def _lesson_page(lesson, reflection_form: ReflectionForm | None = None):
    catalog = get_catalog()
    reflection = reflections.reflection_of(current_user.id, catalog.module.id, lesson.id)
    if reflection_form is None:
        reflection_form = ReflectionForm(formdata=None, text=reflection.text if reflection else "")
    reflection_form.text.label.text = lesson.reflection_prompt
    return render_template(
        "lessons/lesson.html",
        lesson=lesson,
        lesson_body=rendering.lesson_body(lesson),
        is_read=progress.has_read(current_user.id, lesson.id),
        previous_lesson=catalog.previous_lesson(lesson.id),
        next_lesson=catalog.next_lesson(lesson.id),
        reflection=reflection,
        reflection_form=reflection_form,
        share_form=ShareReflectionForm(formdata=None),
        delete_form=DeleteReflectionForm(formdata=None),
        max_reflection_chars=reflections.MAX_CHARS,
    )


@bp.post("/lessen/<lesson_id>/gelezen")
@login_required
def mark_read(lesson_id: str):
    catalog = get_catalog()
    lesson = catalog.lesson(lesson_id) or abort(404)
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort(400)
    if progress.mark_read(current_user, lesson, catalog.module.content_version):
        db.session.commit()
        flash(f"Les {lesson.chapter} is gemarkeerd als gelezen.", "success")
        _, new_certificate = award_if_complete(current_user, catalog, utcnow())
        if new_certificate:
            flash(
                "Gefeliciteerd! Je hebt de module afgerond. Je certificaat staat klaar onder Certificaten.", "success"
            )
            # Completing the module outranks an optional knowledge check: the overview offers the certificate.
            return redirect(url_for("lessons.index"))
    else:
        flash(f"Les {lesson.chapter} stond al als gelezen gemarkeerd.", "info")
    # The lesson's knowledge check comes right after reading it, before the next lesson.
    check = catalog.quiz_for_lesson(lesson.id)
    if check is not None and not guidance.has_done_check(current_user.id, check.id):
        return redirect(url_for("quizzes.detail", quiz_id=check.id))
    following = catalog.next_lesson(lesson.id)
    if following is not None:
        return redirect(url_for("lessons.lesson", lesson_id=following.id))
    return redirect(url_for("lessons.index"))


def _back_to_reflection(lesson):
    return redirect(url_for("lessons.lesson", lesson_id=lesson.id, _anchor="reflectie"))


@bp.post("/lessen/<lesson_id>/reflectie")
@login_required
def save_reflection(lesson_id: str):
    catalog = get_catalog()
    lesson = catalog.lesson(lesson_id) or abort(404)
    form = ReflectionForm()
    if not form.validate_on_submit():
        return _lesson_page(lesson, form), 400
    if reflections.save(current_user, catalog.module.id, lesson.id, form.text.data, utcnow()):
        db.session.commit()
        flash("Je reflectie is bewaard. Alleen jij kunt haar lezen, tenzij je haar deelt.", "success")
    else:
        flash("Je reflectie was al zo bewaard; er is niets veranderd.", "info")
    return _back_to_reflection(lesson)


@bp.post("/lessen/<lesson_id>/reflectie/delen")
@login_required
def share_reflection(lesson_id: str):
    catalog = get_catalog()
    lesson = catalog.lesson(lesson_id) or abort(404)
    form = ShareReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    shared = form.share.data == "ja"
    changed = reflections.set_shared(current_user, catalog.module.id, lesson.id, shared)
    if changed is None:
        flash("Er is nog geen reflectie bij deze les om te delen. Bewaar eerst je reflectie.", "error")
    elif changed:
        db.session.commit()
        flash(
            "Je reflectie is gedeeld: de trainers van jouw groepen kunnen haar nu lezen."
            if shared
            else "Je reflectie is niet meer gedeeld: alleen jij kunt haar nog lezen.",
            "success",
        )
    else:
        flash("Je reflectie was al " + ("gedeeld." if shared else "privé."), "info")
    return _back_to_reflection(lesson)


@bp.post("/lessen/<lesson_id>/reflectie/verwijderen")
@login_required
def delete_reflection(lesson_id: str):
    catalog = get_catalog()
    lesson = catalog.lesson(lesson_id) or abort(404)
    if not DeleteReflectionForm().validate_on_submit():
        abort(400)
    if reflections.delete(current_user, catalog.module.id, lesson.id):
        db.session.commit()
        flash("Je reflectie is verwijderd.", "success")
    else:
        flash("Er was geen reflectie bij deze les om te verwijderen.", "info")
    return _back_to_reflection(lesson)


@bp.get("/woordenlijst")
def glossary():
    return render_template("lessons/glossary.html")


@bp.get("/bron")
def source():
    return render_template("lessons/source.html")


@bp.get("/bronnen")
def references():
    """Every citation of the source, with where it is made; the NJi text has no reference list."""
    return render_template("lessons/references.html")
