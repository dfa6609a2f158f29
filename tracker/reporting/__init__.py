"""Reporting by the units: deadline extensions (延期申请) so far (SPEC 6.1)."""
