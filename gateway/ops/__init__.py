"""What operators and supervisors read: /healthz and /metrics, sd_notify, structured logs,
`motcua-sms report`.
"""
