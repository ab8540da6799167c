"""The daemon's MQTT login and the broker ACLs that refuse or allow its status writes.

Fault tests run mosquitto with a password file and an acl_file (tests/support/broker.py),
then change the ACL while the daemon runs.
"""

from __future__ import annotations

USER, PASSWORD = "motcua-sms", "s3cret-mqtt"
# Anonymous clients (the agencies and the status watcher, on the plain listener) may do
# anything; the daemon may read its work and, once allowed, write statuses.
ACL_REFUSING = (
    f"topic readwrite #\nuser {USER}\ntopic read motcua/+/sms\ntopic read motcua/+/dossier\n"
)
ACL_ALLOWING = ACL_REFUSING + "topic write motcua/+/status\n"
