"""The integration kit for the agencies' one-stop software: the MQTT payloads' JSON Schemas
(shipped here, printed by `motcua-sms schema`) and `motcua-sms validate`, which judges a
payload with the daemon's own intake. The interface is described in docs/asyncapi.yaml and
docs/INTEGRATION.md; docs/schema/ holds copies of the schemas here, tested equal."""
