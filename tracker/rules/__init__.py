"""Pure rules of the domain: functions of `today` and plain values, no database and no request."""
