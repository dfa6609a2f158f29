"""The plan and its ledger: the plan tree and its read model (one TaskRow), the ledger and dashboard pages,
search, Excel in and out, unit groups, seed and demo data."""
