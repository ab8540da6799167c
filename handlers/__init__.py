"""MO keyword handlers, one module per handler (see the `keywords:` config section)."""
