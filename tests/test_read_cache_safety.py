"""The read cache hands out immutable values, and writes outside the ORM have a documented way to
refresh it (issue 9, point 11): ``flask --app wsgi bump-revision`` and ``bump_revision(connection)``
for data migrations."""
import dataclasses
from collections import Counter

import pytest
from sqlalchemy import select, text

from tests.conftest import TODAY
from tracker.cache import readcache
from tracker.cache.revision import bump_revision
from tracker.extensions import db
from tracker.models import Task, User
from tracker.plans.ledger import build_ledger
from tracker.plans.access import get_plan
from tracker.plans.view import load_plan_view
from tracker.rules.lights import LightRules


def ledger_rows(client) -> str:
    r = client.get(f"/ledger?today={TODAY.isoformat()}")
    assert r.status_code == 200
    return r.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def a_measure(app) -> tuple[int, str]:
    with app.app_context():
        return tuple(db.session.execute(select(Task.id, Task.title).where(Task.is_leaf.is_(True))
                                        .order_by(Task.id).limit(1)).one())


def cached_view(app, username="admin"):
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return load_plan_view(get_plan(None), user, TODAY, LightRules())


def test_cached_values_cannot_be_changed_by_a_reader(seeded):
    readcache.clear()
    first = cached_view(seeded)
    task = next(t for t in first.tasks if t.is_leaf)
    state = first.states[task.id]
    title = task.title
    attempts = [
        lambda: setattr(task, "title", "被改掉的标题"),
        lambda: setattr(task, "brand_new", 1),
        lambda: delattr(task, "title"),
        lambda: task.unit_links.append(None),
        lambda: setattr(task.unit_links[0], "role", "co"),
        lambda: setattr(task.unit_links[0].unit, "short_name", "假单位"),
        lambda: first.states.__setitem__(task.id, None),
        lambda: setattr(state, "light", "green"),
        lambda: state.counts.__setitem__("red", 99),
        lambda: first.visible.add(-1),
        lambda: first.tasks.append(task),
    ]
    for attempt in attempts:
        with pytest.raises((AttributeError, TypeError, dataclasses.FrozenInstanceError)):
            attempt()
    second = cached_view(seeded)
    assert second.tasks is first.tasks  # the same cached objects ...
    assert second.tasks[first.tasks.index(task)].title == title  # ... unchanged
    assert second.states[task.id] == state and -1 not in second.visible

    with seeded.app_context():  # the ledger table and the dashboard figures are read-only too
        table = build_ledger(second, list(second.tasks))
        readcache.assert_immutable(table)
        with pytest.raises(dataclasses.FrozenInstanceError):
            table.rows[0].state.__setattr__("percent", 0)


def test_dashboard_figures_are_read_only(seeded, client, auth):
    auth.login("admin")
    readcache.clear()
    assert client.get(f"/?today={TODAY.isoformat()}").status_code == 200  # built and checked on the miss
    with readcache._lock:
        values = list(readcache._entries.values())
    assert len(values) >= 2
    for value in values:
        readcache.assert_immutable(value)


def test_cache_refuses_a_mutable_value(seeded):
    with seeded.app_context():
        for mutable in ([1, 2], {"a": 1}, {1}, Counter(a=1), (1, [2]), type("Plain", (), {})()):
            with pytest.raises(TypeError, match="mutable"):
                readcache.cached(("test", repr(mutable)), lambda: mutable)
        assert readcache.cached(("test", "ok"), lambda: (1, "a", frozenset({2}))) == (1, "a", frozenset({2}))


def test_bump_revision_command_after_sql_outside_the_orm(seeded, client, auth, runner):
    task_id, title = a_measure(seeded)
    auth.login("admin")
    before = ledger_rows(client)
    assert title in before
    with seeded.app_context():  # a fix in psql, as a script would run it: no ORM session involved
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE tasks SET title = :t WHERE id = :id"), {"t": "手工修正后的举措名称", "id": task_id})
    assert ledger_rows(client) == before  # the cache cannot know: stale until the revision moves
    result = runner.invoke(args=["bump-revision"])
    assert result.exit_code == 0 and "数据版本已更新为" in result.output, result.output
    after = ledger_rows(client)
    assert "手工修正后的举措名称" in after and title not in after


def test_data_migration_helper_bumps_in_its_own_transaction(seeded, client, auth):
    task_id, title = a_measure(seeded)
    auth.login("admin")
    assert title in ledger_rows(client)
    with seeded.app_context():  # what a data migration does with op.get_bind()
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE tasks SET title = :t WHERE id = :id"), {"t": "迁移改写的举措名称", "id": task_id})
            bump_revision(conn)
    assert "迁移改写的举措名称" in ledger_rows(client)


def test_bump_revision_on_an_empty_database(app, runner):
    result = runner.invoke(args=["bump-revision"])
    assert result.exit_code == 0 and "无需刷新" in result.output


def test_migrations_that_change_plan_data_bump_the_revision():
    """A data migration writing a tracked table must call ``bump_revision`` (see migrations/script.py.mako)."""
    import re

    from tracker import ROOT
    from tracker.cache.revision import TRACKED_TABLES

    tables = "|".join(sorted(TRACKED_TABLES))
    writes = re.compile(rf"(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?({tables})\b|"
                        rf"op\.bulk_insert\(\s*\w*({tables})|(update|insert|delete)\(\s*({tables})\b", re.I)
    checked = 0
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        upgrade = source.split("def upgrade", 1)[1].split("def downgrade", 1)[0]
        checked += 1
        if writes.search(upgrade):
            assert "bump_revision(" in upgrade, f"{path.name} changes plan data without bump_revision()"
    assert checked >= 3
    assert writes.search('op.execute("UPDATE tasks SET title = 1")')  # the pattern sees a data change


def test_create_app_installs_its_listeners_explicitly(app, tmp_path):
    """The revision's session events and the SQLite pragmas come from create_app, not from importing a module:
    after removing the session events, a new app puts them back, and its own SQLite engine gets the pragmas."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tests.conftest import base_config
    from tracker import create_app
    from tracker.cache import revision

    for name, listener in revision.LISTENERS:
        event.remove(Session, name, listener)
    assert not event.contains(Session, "before_commit", revision._before_commit)
    (tmp_path / "other").mkdir()
    other = create_app(base_config(tmp_path / "other"))
    for name, listener in revision.LISTENERS:
        assert event.contains(Session, name, listener), name
    with other.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        db.session.remove()


def test_remember_names_what_it_needs_and_the_cache_keys_it_by_revision(seeded):
    builds = []

    def build():
        builds.append(1)
        return len(builds)

    with seeded.app_context():
        readcache.clear()
        assert readcache.remember("answer", ("plan", 1), build) == 1
        assert readcache.remember("answer", ("plan", 1), build) == 1  # kept for this revision
        assert readcache.remember("answer", ("plan", 2), build) == 2  # other params: another value
        bump_revision(db.session)
        db.session.commit()
        assert readcache.remember("answer", ("plan", 1), build) == 3  # a new revision: built again
        assert readcache.remember("answer", ("plan", 1), build, revision=None) == 4  # no revision: never kept
        assert readcache.remember("answer", ("plan", 1), build, revision=None) == 5
        db.session.remove()
