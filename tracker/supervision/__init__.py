"""The bureau's supervision: overdue flags and the daily sweep, 逾期清单, 未报送 and urging (催办)."""
