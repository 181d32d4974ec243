"""pylti1p3 adapters: registrations from the lti_platforms table, launch state in lti_launch_values."""

from __future__ import annotations

import typing as t
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from pylti1p3.deployment import Deployment
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from course.extensions import db
from course.lti import keys
from course.models import LtiLaunchValue, LtiPlatform
from course.timeutil import as_utc, utcnow


def find_platform(issuer: str, client_id: str | None) -> LtiPlatform | None:
    if not issuer or not client_id:
        return None
    return db.session.scalar(
        sa.select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    )


def registration_for(platform: LtiPlatform) -> Registration:
    key = keys.current()
    return (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
        .set_tool_private_key(key.private_pem())
        .set_tool_public_key(key.public_pem())
    )


class DatabaseToolConf(ToolConfAbstract):
    """Every issuer may have several client ids: registrations are found by (issuer, client id)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Registration:
        raise NotImplementedError  # never asked: check_iss_has_one_client is always False

    def find_registration_by_params(self, iss: str, client_id: str, *args, **kwargs) -> Registration | None:
        platform = find_platform(iss, client_id)
        return registration_for(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        raise NotImplementedError

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *args, **kwargs):
        platform = find_platform(iss, client_id)
        if platform is None or deployment_id not in platform.deployments:
            return None
        return Deployment().set_deployment_id(deployment_id)


class DatabaseLaunchStorage(LaunchDataStorage[t.Any]):
    """Nonces, state and launch data in the database, so every gunicorn worker sees the same.

    check_value is only asked about nonces, and answers True once: it deletes the row in its own
    committed statement, so a replayed id_token finds no nonce, on any worker, even when the first
    launch was refused later on."""

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> t.Any:
        row = db.session.get(LtiLaunchValue, self._prepare_key(key))
        if row is None or as_utc(row.expires_at) <= utcnow():
            return None
        return row.value

    def set_value(self, key: str, value: t.Any, exp: int | None = None) -> None:
        seconds = min(
            exp or current_app.config["LTI_LAUNCH_DATA_SECONDS"], current_app.config["LTI_LAUNCH_DATA_SECONDS"]
        )
        db.session.merge(
            LtiLaunchValue(key=self._prepare_key(key), value=value, expires_at=utcnow() + timedelta(seconds=seconds))
        )
        db.session.flush()

    def check_value(self, key: str) -> bool:
        result = db.session.execute(
            sa.delete(LtiLaunchValue).where(
                LtiLaunchValue.key == self._prepare_key(key), LtiLaunchValue.expires_at > utcnow()
            )
        )
        db.session.commit()
        return result.rowcount == 1


def prune_expired() -> int:
    result = db.session.execute(sa.delete(LtiLaunchValue).where(LtiLaunchValue.expires_at <= utcnow()))
    return result.rowcount
