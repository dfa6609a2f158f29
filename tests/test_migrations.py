"""init-db applies the Alembic migrations, and they match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import TEST_DATABASE_URL, make_app
from tracker.extensions import db


def test_init_db_creates_schema_matching_models(tmp_path, monkeypatch):
    if TEST_DATABASE_URL:
        # Start from an empty schema on PostgreSQL as well.
        app = make_app(tmp_path, monkeypatch)
        with app.app_context():
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        import tests.conftest as conftest
        conftest._pg_schema_ready = False
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "inst"))
    from tests.conftest import base_config
    from tracker import create_app
    app = create_app(base_config(tmp_path / "m"))
    (tmp_path / "m").mkdir(exist_ok=True)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"tasks", "units", "users", "progress_updates", "notifications", "audit_log"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        # Running it again is harmless.
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    if TEST_DATABASE_URL:
        with app.app_context():
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
