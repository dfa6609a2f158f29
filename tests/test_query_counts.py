"""The ledger, the dashboard and the export run a fixed number of SQL statements
whatever the plan's size (SPEC 5): counted at two sizes, asserted equal."""
import pytest

from bench.synth import populate

from .conftest import TODAY
from .queries import count_statements


@pytest.fixture
def two_plans(seeded):
    with seeded.app_context():
        small = populate(12, seed=1)
        large = populate(700, seed=2)  # > 500 tasks: beyond any IN-list batching
    return seeded, small, large


@pytest.mark.parametrize("username", ["admin", "sfj"])
@pytest.mark.parametrize("path", [
    "/ledger?plan={plan}&today={today}",
    "/ledger?plan={plan}&today={today}&light=red&q=举措",
    "/?plan={plan}&today={today}",
    "/?plan={plan}&today={today}&sort=missing&dir=asc",
    "/ledger/export.xlsx?plan={plan}&today={today}",
    "/api/v1/tasks?plan={plan}&today={today}",
    "/api/v1/tasks?plan={plan}&today={today}&level=3&light=red",
    "/api/v1/overdue?plan={plan}&today={today}",
])
def test_fixed_query_count(two_plans, client, auth, username, path):
    app, small, large = two_plans
    auth.login(username)
    counts = [count_statements(app, client, path.format(plan=plan, today=TODAY)) for plan in (small, large)]
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12
