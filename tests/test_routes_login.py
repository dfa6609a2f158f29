"""Login everywhere: every route of the app, enumerated from the URL map, refuses an
anonymous visitor (redirect to /login for pages, 401 JSON for the API), for GET and POST."""
import re

from tests.conftest import csrf_token_from, make_app

PUBLIC = {"auth.login", "static"}


def concrete(rule, int_fill: str = "1") -> str:
    """The rule with its variables filled in: ``int_fill`` for ints, "x" otherwise."""
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: int_fill if m.group(1) == "int" else "x", rule.rule)


def logged_in(app, username: str):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "demo1234"}).status_code == 302
    return client


def urls(app, method: str):
    """(rule, url) for every route taking ``method``, ints filled with 1 and with an unknown id."""
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint in PUBLIC or rule.endpoint == "auth.logout":
            continue
        for fill in (("1", "999999") if "<int:" in rule.rule else ("1",)):
            yield rule, concrete(rule, fill)


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
    from tracker.operations.seed import seed

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


GARBAGE = [
    "", "?today=2024-02-30", "?today=abc", "?plan=abc", "?plan=999999", "?page=-1", "?page=abc", "?page=99999",
    "?sort=zzz&dir=sideways", "?period=2024-13", "?period=abc", "?unit=%E4%B8%8D%E5%AD%98%E5%9C%A8", "?unit=999999",
    "?task=abc", "?task=999999", "?light=purple", "?status=x", "?level=-3", "?filter=nope", "?min_days=abc",
    "?from=2024-99-01&to=x", "?action=nope", "?q=" + "%25" * 300, "?state=nope", "?kind=nope",
]


def test_no_get_route_answers_500_to_garbage(seeded):
    """Every GET route, as an admin and as a unit liaison, with malformed query strings: a page or a 4xx."""
    for username in ("admin", "jtj"):
        client = logged_in(seeded, username)
        for _rule, url in urls(seeded, "GET"):
            for query in GARBAGE:
                r = client.get(url + query)
                assert r.status_code < 500, (username, url + query, r.status_code)


BAD_FORMS = [
    {},
    {"status": "x", "progress": "abc", "version": "zz", "decision": "zz", "comment": "", "narrative": ""},
    {"status": "done", "progress": "150", "version": "-1", "decision": "approve", "username": "", "role": "boss",
     "unit": "999999", "email": "not-an-email", "password": "x", "emails": "a@@b", "full_name": "", "kind": "x",
     "token": "../../etc/passwd", "note": "<script>x</script>", "task_id": "abc", "unit_id": "abc"},
]


def test_no_post_route_answers_500_to_garbage(seeded):
    """Every POST route, as an admin and as a unit liaison, with empty and malformed bodies: never a 500."""
    for username in ("admin", "jtj"):
        client = logged_in(seeded, username)
        for rule, url in urls(seeded, "POST"):
            for form in BAD_FORMS:
                r = client.post(url, data=form)
                assert r.status_code < 500, (username, url, form, r.status_code)
            if rule.rule.startswith("/api/"):
                for body in (b"{", b"[]", b'"x"', b'{"version": "abc", "progress": []}', b"\xff\xfe"):
                    r = client.post(url, data=body, content_type="application/json")
                    assert r.status_code < 500 and r.is_json, (username, url, body, r.status_code)
