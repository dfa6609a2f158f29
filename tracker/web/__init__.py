"""The request layer shared by every page: access checks, the input guard, form helpers, templating, error pages."""
