"""The plan and its ledger: the plan tree and its read model (one TaskRow for every reader), the ledger
page and its Excel export, plan import from Excel, unit groups and the search page.

Views: ``ledger_views``, ``import_views``, ``search_views``. Use cases: ``service`` (building plans),
``tasks`` (the read model), ``ledger``, ``excel_import`` / ``excel_export``, ``unit_groups``, ``periods``
(recurring measures' periods); ``cli`` has ``export-ledger`` and ``import-plan``."""
