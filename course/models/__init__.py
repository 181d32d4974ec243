"""Typed models, one module per domain."""

from course.models.account_token import AccountToken, TokenPurpose
from course.models.analysis import ALL_GROUPS, ItemAnalysisResult
from course.models.attempt import Attempt, AttemptDecision, AttemptItem, AttemptMode, AttemptStatus
from course.models.audit import AuditEvent, AuditEventPerson
from course.models.certificate import Certificate, CertificateStatus
from course.models.external_identity import ExternalIdentity
from course.models.group import (
    Assignment,
    AttemptGrant,
    Group,
    GroupMember,
    GroupStatusCount,
    Invitation,
    InvitationStatus,
    MemberProgress,
)
from course.models.login_failure import LoginFailure
from course.models.login_session import LoginSession, Passkey, RecoveryCode
from course.models.lti import LtiContext, LtiGradeLink, LtiLaunchValue, LtiPlatform, LtiScoreReport
from course.models.outbox import OutboxMessage, OutboxStatus
from course.models.progress import LessonRead
from course.models.rate_limit import RateLimitHit
from course.models.reflection import Reflection
from course.models.registration import PendingRegistration
from course.models.reminder import ReminderKind, ReminderSent
from course.models.sso import OidcProvider, PasswordlessDomain
from course.models.user import Role, User

__all__ = [
    "ALL_GROUPS",
    "AccountToken",
    "Assignment",
    "Attempt",
    "AttemptDecision",
    "AttemptGrant",
    "AttemptItem",
    "AttemptMode",
    "AttemptStatus",
    "AuditEvent",
    "AuditEventPerson",
    "Certificate",
    "CertificateStatus",
    "ExternalIdentity",
    "Group",
    "GroupMember",
    "GroupStatusCount",
    "Invitation",
    "InvitationStatus",
    "ItemAnalysisResult",
    "LessonRead",
    "LoginFailure",
    "LoginSession",
    "LtiContext",
    "LtiGradeLink",
    "LtiLaunchValue",
    "LtiPlatform",
    "LtiScoreReport",
    "MemberProgress",
    "OidcProvider",
    "OutboxMessage",
    "OutboxStatus",
    "Passkey",
    "PasswordlessDomain",
    "PendingRegistration",
    "RateLimitHit",
    "RecoveryCode",
    "Reflection",
    "ReminderKind",
    "ReminderSent",
    "Role",
    "TokenPurpose",
    "User",
]
