"""Rigs shared by the tests: broker, daemon, SMSC scripts, bursts, the log scan."""
