"""The learner-independent part of a lesson page, rendered once per lesson and process.

Lessons are loaded once at start-up and do not change while the app runs, so rendering their
goals, contents, text and key points again for every page view would be repeated work: the
lesson page is the most-visited page of the course."""

from __future__ import annotations

from flask import current_app, render_template
from markupsafe import Markup

from course.catalog import Lesson


def lesson_body(lesson: Lesson) -> Markup:
    rendered: dict[str, Markup] = current_app.extensions.setdefault("rendered_lesson_bodies", {})
    body = rendered.get(lesson.id)
    if body is None:
        # Autoescaped template output, so safe to embed as it is.
        html = render_template("lessons/_lesson_body.html", lesson=lesson)
        body = rendered[lesson.id] = Markup(html)  # noqa: S704
    return body
