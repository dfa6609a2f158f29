"""The bureau's supervision: overdue flags and the daily sweep, the overview (总览, dashboard), the
overdue list (逾期清单) with its Excel export, 未报送, and urging (催办).

Views: ``views`` (the bureau blueprint), ``dashboard_views``. Use cases: ``overdue``, ``daily``,
``service``, ``dashboard``; ``cli`` has ``check-overdue``."""
