"""Operating the tracker (SPEC 6.7): backup and restore archives, the scheduler's heartbeat and the
``health`` check, and files written for the service user only."""
