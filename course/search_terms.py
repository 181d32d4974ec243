"""Search terms travel in a POST body and wait in the session, never in a URL.

A name or e-mail address typed into a search box would otherwise end up in the address bar,
the browser history, server and proxy logs and Referer headers; we keep personal data out
of URLs. The rest of a filter (role, status, sort order, page) is not personal and stays in
the URL, so those views can still be bookmarked and paged."""

from __future__ import annotations

from flask import flash, session
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

MAX_LENGTH = 120
# Terms are kept per page (a trainer's groups each have their own); the oldest go first so the
# signed session cookie stays small.
MAX_PAGES = 20
_KEY = "search_terms"


class SearchForm(FlaskForm):
    term = StringField("Zoekterm", validators=[Length(max=MAX_LENGTH, message=f"Hoogstens {MAX_LENGTH} tekens.")])


def remember(page: str, term: str | None) -> None:
    """Keep `term` for `page`; an empty term clears the search."""
    terms = dict(session.get(_KEY, {}))
    terms.pop(page, None)
    term = (term or "").strip()
    if term:
        terms[page] = term
        while len(terms) > MAX_PAGES:
            terms.pop(next(iter(terms)))
    session[_KEY] = terms


def recall(page: str) -> str:
    terms = session.get(_KEY, {})
    return terms.get(page, "") if isinstance(terms, dict) else ""


def take_from_form(page: str) -> None:
    """Keep the posted term for `page`, or say why not (and keep the previous one)."""
    form = SearchForm()
    if form.validate_on_submit():
        remember(page, form.term.data)
    else:
        flash("Zoekterm niet gebruikt: " + " ".join(form.term.errors or ["ongeldige invoer."]), "error")
