"""A test LMS built on lti1p3platform (a library that is not ours): it serves its JWKS and its OIDC
auth endpoint over HTTP on a loopback port and signs id_tokens, so the tool under test validates
real launches the way it would from Moodle or Canvas."""

from __future__ import annotations

import json
import threading
import typing as t
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService
from werkzeug.serving import make_server
from werkzeug.wrappers import Request as WsgiRequest
from werkzeug.wrappers import Response as WsgiResponse

CLIENT_ID = "hechtwijzer-tool"
DEPLOYMENT_ID = "deployment-1"
LEARNER = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
INSTRUCTOR = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
MENTOR = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"]


def rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: t.Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        return self._registration


class _Request(Request):
    def build_metadata(self, request: dict) -> dict:
        return {"method": "GET", "form_data": {}, "get_data": request, "headers": {}, "content_type": None,
                "path": "/auth", "json": None}  # fmt: skip


class _HttpRequest(Request):
    def build_metadata(self, request: WsgiRequest) -> dict:
        return {"method": request.method, "form_data": dict(request.form), "get_data": dict(request.args),
                "headers": dict(request.headers), "content_type": request.content_type, "path": request.path,
                "json": request.get_json(silent=True)}  # fmt: skip


class _Scores(AssignmentsGradesService):
    """The platform's gradebook: line items the tool may create, scores it posts."""

    def __init__(self, request, config, platform: TestPlatform) -> None:
        super().__init__(request, config, f"{platform.base}/lineitems")
        self.platform = platform

    def find_lineitems(self, page=1, limit=None, line_item_id=None, resource_link_id=None, resource_id=None, tag=None):
        items = [i for i in self.platform.lineitems.values() if not resource_id or i.get("resourceId") == resource_id]
        return {"content": items, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id):
        return self.platform.lineitems[line_item_id]

    def create_lineitem(self, creation_data):
        number = str(len(self.platform.lineitems) + 1)
        item = {**creation_data, "id": f"{self.platform.base}/lineitems/{number}"}
        self.platform.lineitems[number] = item
        return item

    def update_lineitem(self, update_data):
        raise NotImplementedError

    def delete_lineitem(self, line_item_id):
        raise NotImplementedError

    def update_score(self, line_item_id, score):
        self.platform.scores.append({"lineitem": line_item_id, **score})
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id, page=1, limit=None, user_id=None):
        raise NotImplementedError


class _Roster(NamesRoleProvisioningService):
    def __init__(self, request, config, platform: TestPlatform) -> None:
        super().__init__(request, config, f"{platform.base}/memberships")
        self.platform = platform

    def get_member_data_page(self, page=1, limit=None, role=None, since=None):
        return {"content": [dict(m) for m in self.platform.members], "has_next": False, "next": None}

    def get_context_by_id(self):
        return Context(id="course-1", label="HW", title="Hechtwijzer najaar")


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: t.Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict, **kwargs: t.Any) -> dict:
        return launch_data


class TestPlatform:
    """One LMS with one tool registration. `launch_settings` shape the next id_token (the test's knobs)."""

    __test__ = False

    def __init__(self, tool_base: str, platform_key: tuple[str, str]) -> None:
        self.private_key, self.public_key = platform_key
        self.tool_base = tool_base
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self.issuer = self.base
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.launch_settings: dict[str, t.Any] = {}
        self.lineitems: dict[str, dict] = {"1": {"id": f"{self.base}/lineitems/1", "scoreMaximum": 100,
                                                 "label": "Eindtoets", "resourceId": "quiz"}}  # fmt: skip
        self.scores: list[dict] = []
        self.members: list[dict] = []
        self.down = False  # True: every service call answers 503, as a platform in maintenance
        self.registration = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(f"{tool_base}/lti/login")
            .set_launch_url(f"{tool_base}/lti/launch")
            .set_tool_key_set_url(f"{tool_base}/lti/jwks")
            .set_platform_public_key(self.public_key)
            .set_platform_private_key(self.private_key)
        )

    def __enter__(self) -> TestPlatform:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()

    # What an admin types into the tool's registration form.
    def details(self) -> dict[str, str]:
        return {
            "name": "Test-LMS",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "deployment_ids": DEPLOYMENT_ID,
            "auth_login_url": f"{self.base}/auth",
            "auth_token_url": f"{self.base}/token",
            "key_set_url": f"{self.base}/jwks",
        }

    def login_initiation_url(self, user_id: str, hint: str = "resource-1") -> str:
        """The URL the LMS sends the browser to when someone clicks the activity (third-party login)."""
        login = _Login(None, _Config(registration=self.registration))
        login.set_lti_message_hint(hint=hint)
        return login.initiate_login(user_id)

    def _wsgi(self, environ, start_response):
        request = WsgiRequest(environ)
        if request.path == "/jwks":
            body = json.dumps({"keys": self.registration.get_jwks()})
            return WsgiResponse(body, content_type="application/json")(environ, start_response)
        if request.path == "/auth-html":  # for a real browser: the auto-posted form an LMS answers with
            data = self.authenticate(dict(request.args))
            page = (
                f'<!doctype html><html lang="en"><title>LMS</title><form method="post" action="{self.tool_base}/lti/launch">'
                f'<input type="hidden" name="id_token" value="{data["id_token"]}">'
                f'<input type="hidden" name="state" value="{data["state"]}"></form>'
                "<script>document.forms[0].submit()</script></html>"
            )
            return WsgiResponse(page, content_type="text/html")(environ, start_response)
        if request.path == "/auth":
            return WsgiResponse(json.dumps(self.authenticate(dict(request.args))), content_type="application/json")(
                environ, start_response
            )
        if request.path.startswith(("/token", "/lineitems", "/memberships")):
            return self._service(request)(environ, start_response)
        return WsgiResponse("not found", status=404)(environ, start_response)

    def _service(self, request: WsgiRequest) -> WsgiResponse:
        if self.down:
            return WsgiResponse("maintenance", status=503)
        config = _Config(registration=self.registration)
        if request.path == "/token":
            return WsgiResponse(
                json.dumps(config.get_access_token(dict(request.form))), content_type="application/json"
            )
        wrapped = _HttpRequest(request)
        if request.path == "/memberships":
            answer = _Roster(wrapped, config, self).handle_resp(_Roster(wrapped, config, self).handle_get_members)
        elif request.path.endswith("/scores"):
            number = request.path.split("/")[2]
            service = _Scores(wrapped, config, self)
            answer = service.handle_resp(service.handle_update_score, line_item_id=number)
        elif request.method == "POST":
            service = _Scores(wrapped, config, self)
            answer = service.handle_resp(service.handle_create_lineitem)
        else:
            service = _Scores(wrapped, config, self)
            answer = service.handle_resp(service.handle_get_lineitems)
            if answer.code == 200:  # AGS: the container is a JSON array (the library answers its page object)
                answer.result = answer.result["content"]
        body = json.dumps(answer.result) if answer.result is not None else ""
        return WsgiResponse(body, status=answer.code, content_type=answer.media_type)

    def authenticate(self, preflight: dict[str, str]) -> dict[str, str]:
        """The platform's OIDC auth endpoint: checks the tool's request, answers with the signed launch
        (the form a real LMS would auto-post to redirect_uri)."""
        settings = dict(self.launch_settings)
        launch = _Launch(_Request(preflight), _Config(registration=self.registration))
        launch.set_user_data(
            settings.get("user_id", preflight["login_hint"]),
            settings.get("roles", LEARNER),
            full_name=settings.get("name", "Lotte LMS"),
            email_address=settings.get("email", "lotte@lms.example.org"),
        )
        launch.set_resource_link_claim("resource-1", title="Hechtwijzer")
        launch.set_launch_presentation_claim(document_target=settings.get("document_target", "window"))
        if "custom" in settings:
            launch.set_custom_parameters_claim(settings["custom"])
        if "expires_in" in settings:
            launch.set_id_token_expiration(settings["expires_in"])
        if "claims" in settings:
            launch.set_extra_claims(settings["claims"])
        if settings.get("ags", True):
            launch.set_ags(f"{self.base}/lineitems", settings.get("lineitem", f"{self.base}/lineitems/1"))
        if settings.get("nrps", True):
            launch.set_nrps(f"{self.base}/memberships")
        if "context" in settings:
            launch.set_launch_context_claim(settings["context"], context_title="Hechtwijzer najaar")
        if settings.get("deep_link"):
            self.registration.set_deeplink_launch_url(f"{self.tool_base}/lti/launch")
            launch.set_dl(f"{self.base}/deep-link-return", title="Hechtwijzer", accept_types={"ltiResourceLink"})
        data = launch.lti_launch()
        if "sign_with" in settings:  # a forger: same kid, another private key
            registration = self.registration
            token_body = _unverified_body(data["id_token"])
            data["id_token"] = Registration.encode_and_sign(
                token_body, settings["sign_with"], headers={"kid": registration.get_kid()}
            )
        return {"id_token": data["id_token"], "state": data["state"], "launch_url": data["launch_url"]}

    def receive_deep_link(self, jwt: str, tool_jwks: dict) -> list[dict]:
        """The platform's side of a deep-linking answer: check the tool's signature, return the items."""
        self.registration.set_tool_key_set(tool_jwks)
        return _Config(registration=self.registration).validate_deeplinking_resp({"JWT": jwt})


def _unverified_body(token: str) -> dict:
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))
