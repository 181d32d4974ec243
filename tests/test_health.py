def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database_as_503(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from course.extensions import db

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
