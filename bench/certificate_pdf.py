"""Benchmark: certificate PDF generation time (target: median <= 20 ms).

Run: .venv/bin/python -m bench.certificate_pdf [--runs 200]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import date

from course.certificates.codes import new_code
from course.certificates.pdf import render_certificate
from course.models import Certificate

TARGET_MS = 20.0


def sample_certificate() -> Certificate:
    return Certificate(
        learner_name="Zoë van den Berg-Çelik",
        register_name="SKJ",
        register_number="100012345",
        module_title="Hechting: risico- en beschermende factoren",
        content_version="1.0 (bron: NJi, maart 2021)",
        study_load="2 uur",
        accreditation_body="Stichting Kwaliteitsregister Jeugd (SKJ)",
        accreditation_points="2",
        accreditation_activity_id="VOORBEELD-2021-HW",
        completed_on=date(2026, 11, 27),
        valid_until=date(2029, 11, 27),
        verification_code=new_code(),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    certificate = sample_certificate()
    url = f"https://hechtwijzer.example.nl/verifieren/{certificate.verification_code}"
    render_certificate(certificate, url)  # warm-up: font registration, imports
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        render_certificate(certificate, url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"certificate pdf: runs={args.runs} median={median:.1f} ms p95={p95:.1f} ms min={times[0]:.1f} ms")
    print(f"target median <= {TARGET_MS:.0f} ms: {'met' if median <= TARGET_MS else 'NOT met'}")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
