"""Zalo beside SMS: the ZNS and OA chat client, its OAuth tokens, the webhook endpoint,
and the bundled simulator (`motcua-sms zalo-sim`).

A foundation like `gateway.smpp`: it knows Zalo's API and nothing of dossiers or the
store; the core calls it through `ZaloClient`, `TokenKeeper` and `ZaloWebhooks`, and acts
on each failure's `ZnsAction`.
"""
