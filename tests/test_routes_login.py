"""Login everywhere: every route of the app, enumerated from the URL map, refuses an
anonymous visitor (redirect to /login for pages, 401 JSON for the API), for GET and POST."""
import re

from tests.conftest import csrf_token_from, make_app

PUBLIC = {"auth.login", "static"}


def concrete(rule) -> str:
    """The rule with its variables filled in: 1 for ints, "x" otherwise."""
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule.rule)


def test_every_route_needs_login(seeded):
    client = seeded.test_client()
    checked = 0
    for rule in seeded.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        url = concrete(rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            r = client.open(url, method=method)
            checked += 1
            if rule.rule.startswith("/api/"):
                assert r.status_code == 401 and r.is_json, (method, url, r.status_code)
            elif rule.endpoint == "auth.logout":
                assert r.status_code in (302, 303) and "/login" in r.headers["Location"]
            else:
                assert r.status_code in (302, 303), (method, url, r.status_code)
                assert "/login" in r.headers["Location"], (method, url)
    assert checked >= 40


def test_every_post_route_needs_csrf(tmp_path, monkeypatch):
    """With CSRF on, a logged-in admin's POST without a token is refused on every form route."""
    from tracker.services.seed import seed

    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "admin", "password": "demo1234", "csrf_token": token}).status_code == 302
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in PUBLIC:
            continue
        url = concrete(rule)
        r = client.post(url, data={"x": "1"})
        checked += 1
        assert r.status_code == 400, (url, r.status_code)
    assert checked >= 10
