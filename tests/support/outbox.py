"""Configuration for rigs that send through the outbox (store, session, sender)."""

from __future__ import annotations

import dataclasses

from gateway.settings.config import Config, RetryConfig, default_config


def config(**retry: float) -> Config:
    """Fast retries, and no quiet hours: a notice queued at night in a test goes at once."""
    base = default_config()
    return dataclasses.replace(
        base,
        retry=dataclasses.replace(RetryConfig(), base_delay=0.05, max_delay=0.1, **retry),
        schedule=dataclasses.replace(base.schedule, quiet_hours=None),
    )
