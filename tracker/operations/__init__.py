"""Operating the tracker (SPEC 6.7): setting up (``init-db``, ``seed`` with the reference plan and demo
data, ``bump-revision``), backup and restore archives, the scheduler's heartbeat and the ``health`` check."""
