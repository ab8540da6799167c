"""MO keyword handlers, one module per handler (see the `keywords:` config section).

A handler imports gateway.mo.api and nothing else of the gateway; that module says what
a handler defines (SYNTAX, PURPOSE, optional OUTCOME, `async def handle`).
"""
