"""Deep linking: what a teacher in the LMS can place (the module, a lesson, a test) and the signed
answer that tells the platform about it, with a line item for everything that yields a score."""

from __future__ import annotations

from dataclasses import dataclass

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from course.catalog.types import Catalog
from course.lti.tool import registration_for
from course.models import LtiPlatform
from course.quizzes.blueprint import graded

SCORE_MAXIMUM = 100  # scores go out as percentages


@dataclass(frozen=True)
class Choice:
    resource: str  # "module", "lesson:<id>", "quiz:<id>": the launch's custom parameter
    title: str
    scored: bool  # gets a line item in the gradebook


def choices(catalog: Catalog) -> list[Choice]:
    graded_ids = {quiz.id for quiz in graded(catalog.quizzes)}
    return [
        Choice("module", f"{catalog.module.title} (hele module, afronding)", True),
        *(Choice(f"lesson:{lesson.id}", f"Les: {lesson.title}", False) for lesson in catalog.lessons),
        *(Choice(f"quiz:{quiz.id}", f"Toets: {quiz.title}", quiz.id in graded_ids) for quiz in catalog.quizzes),
    ]


def response_jwt(platform: LtiPlatform, deployment_id: str, settings: dict, choice: Choice, launch_url: str) -> str:
    """The signed LtiDeepLinkingResponse for one chosen item."""
    resource = (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(choice.title)
        .set_custom_params({"resource": choice.resource})
        .set_target("window")
    )
    if choice.scored:
        resource.set_lineitem(
            LineItem().set_score_maximum(SCORE_MAXIMUM).set_label(choice.title).set_resource_id(choice.resource)
        )
    return DeepLink(registration_for(platform), deployment_id, settings).get_response_jwt([resource])
