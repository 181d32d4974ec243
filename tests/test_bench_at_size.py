"""The bench at size (bench/at_size.py) finds every page it measures, at a size small enough for the
suite: when a page moves or refuses the bench's sign-ins, this fails here rather than in an hour-long run."""

from __future__ import annotations

import argparse

import pytest

from bench import at_size

pytestmark = pytest.mark.at_size


def test_every_page_of_the_bench_answers_and_is_reported(tmp_path):
    args = argparse.Namespace(seed=7, repeat=1, only=None)
    # Its own SQLite file: the bench empties the database it is given (never the suite's).
    run = at_size.run_size(f"sqlite:///{tmp_path}/bench.db", 20, args)
    refused = {name: m.status for name, m in run.pages.items() if m.status != 200}
    assert refused == {}
    assert set(run.pages) == {s.name for s in at_size.SCENARIOS}
    lines, _ = at_size.report([run], "SQLite")
    table = "\n".join(lines)
    for scenario in at_size.SCENARIOS:
        assert f"| {scenario.name} |" in table
    assert "Machine:" in table and "cores" in table and "load average" in table


def test_an_export_that_keeps_every_row_is_projected_past_the_limit():
    def run(rows: int, peak: float) -> at_size.SizeRun:
        page = at_size.Measure(1, 1, None, 1, 200, 1, peak_traced_mb=peak, peak_rss_mb=None)
        return at_size.SizeRun(rows * 4, 1.0, {}, rows, {"CSV export": page})

    growing = [run(2_500, 5.0), run(25_000, 50.0)]  # 2 kB a row: 200 MB at 100,000 rows
    flat = [run(2_500, 5.0), run(25_000, 5.0)]  # streaming: the same peak whatever the rows
    assert at_size._projected_peak(growing, "CSV export") > at_size.EXPORT_LIMIT_MB
    assert at_size._projected_peak(flat, "CSV export") == 5.0
