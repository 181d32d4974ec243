"""Issue 14, item 7: the SVG charts draw the numbers they are given (read back from the SVG itself),
and stand beside a table that says the same."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from course.models import Role
from course.trainer import charts
from tests.conftest import Person
from tests.helpers import add_members, assign, due, new_group, text
from tests.quiz_helpers import complete_module

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 -- our own chart markup, not untrusted input


def bars(svg: ET.Element) -> list[tuple[str, float, str]]:
    """(label, drawn width, printed number) per bar row."""
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "label"]
    widths = [float(r.get("width")) for r in svg.iter(f"{SVG}rect") if r.get("class") == "bar"]
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    return list(zip(labels, widths, values, strict=True))


def test_bar_lengths_are_proportional_to_the_values_and_print_them():
    svg = parse(charts.bar_chart([charts.Bar("A", 4, "4"), charts.Bar("B", 1, "1"), charts.Bar("C", 0, "0")]))
    (a, wa, va), (b, wb, vb), (c, wc, vc) = bars(svg)
    assert (a, b, c) == ("A", "B", "C") and (va, vb, vc) == ("4", "1", "0")
    assert wa == pytest.approx(4 * wb) and wc == 0
    assert svg.get("aria-hidden") == "true"  # decoration: the page's table carries the numbers


def test_an_empty_chart_draws_no_bars_and_does_not_divide_by_zero():
    svg = parse(charts.bar_chart([charts.Bar("A", 0, "0")]))
    assert bars(svg) == [("A", 0.0, "0")]


def test_a_labelled_chart_is_an_image_with_that_name_and_text_is_escaped():
    svg = parse(charts.bar_chart([charts.Bar("<script>x</script> & co", 1, "1")], label="Cursisten <per> status"))
    assert svg.get("role") == "img" and svg.get("aria-label") == "Cursisten <per> status"
    assert bars(svg)[0][0] == "<script>x</script> & co"  # text, not markup: the XML still parses


def test_the_state_chart_shows_each_state_in_order():
    counts = {"afgerond": 3, "bezig": 6, "niet gestart": 0, "te laat": 1}
    drawn = bars(parse(charts.state_chart(counts, ("afgerond", "bezig", "niet gestart", "te laat"))))
    assert [(label, value) for label, _, value in drawn] == [
        ("Afgerond", "3"),
        ("Bezig", "6"),
        ("Niet gestart", "0"),
        ("Te laat", "1"),
    ]
    widths = [width for _, width, _ in drawn]
    assert widths[1] == pytest.approx(2 * widths[0], rel=1e-3) and widths[1] == pytest.approx(6 * widths[3], rel=1e-3)


def test_cumulative_counts_step_up_on_each_completion_day():
    start = date(2026, 11, 1)
    days = [date(2026, 11, 3), date(2026, 11, 3), date(2026, 11, 10)]
    assert charts.cumulative(days, start, date(2026, 11, 20)) == [
        (start, 0),
        (date(2026, 11, 3), 2),
        (date(2026, 11, 10), 3),
        (date(2026, 11, 20), 3),
    ]


def test_the_progress_chart_places_the_deadline_and_the_completions_where_they_belong():
    start, today, deadline = date(2026, 11, 1), date(2026, 11, 11), date(2026, 11, 21)
    svg = parse(charts.progress_chart([date(2026, 11, 6)], 4, start, today, deadline))
    line = next(e for e in svg.iter(f"{SVG}line") if e.get("class") == "deadline")
    left, width = 48, 640 - 48 - 20
    assert float(line.get("x1")) == pytest.approx(left + width)  # the deadline is the last day shown
    path = next(e for e in svg.iter(f"{SVG}path") if e.get("class") == "completed")
    assert path.get("data-points") == "2026-11-01:0 2026-11-06:1 2026-11-11:1"
    # The drawn line ends at 1 of 4: a quarter of the way up the plot (top 16, height 240 - 16 - 40).
    last_y = float(re.findall(r"L[\d.]+,([\d.]+)", path.get("d"))[-1])
    assert last_y == pytest.approx(16 + 184 * (1 - 1 / 4))
    today_mark = next(e for e in svg.iter(f"{SVG}line") if e.get("class") == "today")
    assert float(today_mark.get("x1")) == pytest.approx(left + width / 2)
    total = next(e for e in svg.iter(f"{SVG}line") if e.get("class") == "total")
    assert total.get("data-value") == "4" and float(total.get("y1")) == pytest.approx(16)


def test_the_answer_distribution_draws_shares_out_of_a_hundred_and_marks_the_right_answer():
    svg = parse(charts.option_chart([("Juist", 3, 0.75, True), ("Fout", 1, 0.25, False)]))
    (right, w_right, v_right), (wrong, w_wrong, v_wrong) = bars(svg)
    assert right == "✓ Juist" and wrong == "Fout"
    assert (v_right, v_wrong) == ("75% (3)", "25% (1)")
    assert w_right == pytest.approx(0.75 * 320) and w_wrong == pytest.approx(0.25 * 320)


def test_the_item_overview_places_each_question_by_facility_and_discrimination():
    svg = parse(charts.item_overview([(1, 0.5, 0.0), (2, 1.0, 1.0), (3, 0.4, None)]))
    dots = {c.get("data-number"): (float(c.get("cx")), float(c.get("cy"))) for c in svg.iter(f"{SVG}circle")}
    assert set(dots) == {"1", "2"}  # question 3 has no discrimination yet: not drawn
    left, top, width, height = 48, 16, 640 - 48 - 20, 300 - 16 - 40
    assert dots["1"] == pytest.approx((left + width / 2, top + height / 2))
    assert dots["2"] == pytest.approx((left + width, top))


# --- on the pages ------------------------------------------------------------------------------------


def svgs(page: str) -> list[ET.Element]:
    return [parse(m) for m in re.findall(r"<svg .*?</svg>", page, re.S)]


@pytest.fixture
def trainer(person) -> Person:
    return person(Role.TRAINER, "Tineke Trainer")


def test_the_group_page_draws_its_own_counts_beside_a_table(app, trainer, person):
    done = person(Role.LEARNER, "Anna Klaar")
    idle = [person(Role.LEARNER, f"Cursist {n}") for n in range(2)]
    group_id = new_group(trainer)
    add_members(trainer, group_id, done, *idle)
    assign(trainer, group_id, due(14))
    complete_module(app, done.client)
    page = text(trainer.client.get(f"/trainer/groepen/{group_id}"))
    state, progress = svgs(page)
    drawn = {label: value for label, _, value in bars(state)}
    assert drawn == {"Afgerond": "1", "Bezig": "0", "Niet gestart": "2", "Te laat": "0"}
    assert "<td>1</td>" in page and "<td>2</td>" in page  # the same numbers as a table
    deadline = next(e for e in progress.iter(f"{SVG}line") if e.get("class") == "deadline")
    assert deadline.get("data-date") == (date.fromisoformat(due(14))).isoformat()
    path = next(e for e in progress.iter(f"{SVG}path") if e.get("class") == "completed")
    assert path.get("data-points").endswith(":1")
    assert all(svg.get("aria-hidden") == "true" for svg in (state, progress))


def test_an_empty_group_shows_no_charts(trainer):
    page = text(trainer.client.get(f"/trainer/groepen/{new_group(trainer)}"))
    assert "<svg" not in page


def test_the_item_analysis_draws_an_overview_and_a_distribution_per_answered_question(app, trainer, person):
    learner = person(Role.LEARNER, "Anna Klaar")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    complete_module(app, learner.client)
    page = text(trainer.client.get("/trainer/toetsen/eindtoets/analyse"))
    overview, *distributions = svgs(page)
    assert list(overview.iter(f"{SVG}circle")) == []  # one attempt: no discrimination, nothing placed
    assert distributions, "answered questions get a distribution chart"
    for svg in distributions:
        # One answer per question: the chosen options are drawn at 100%, the others at 0%.
        widths = [width for _, width, _ in bars(svg)]
        assert all(w in (0.0, 320.0) for w in widths) and 320.0 in widths


def test_a_deadline_in_the_past_still_draws_up_to_today():
    today = date(2026, 12, 1)
    svg = parse(
        charts.progress_chart(
            [today - timedelta(days=1)], 3, today - timedelta(days=10), today, today - timedelta(days=3)
        )
    )
    path = next(e for e in svg.iter(f"{SVG}path") if e.get("class") == "completed")
    assert path.get("data-points") == "2026-11-21:0 2026-11-30:1 2026-12-01:1"
    deadline = next(e for e in svg.iter(f"{SVG}line") if e.get("class") == "deadline")
    assert float(deadline.get("x1")) == pytest.approx(48 + 572 * 7 / 10)
