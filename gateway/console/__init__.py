"""The supervisors' web console (`motcua-sms console`): the reconciliation figures in
Vietnamese, behind a login, read from the store without ever writing to it.

Modules by concept: `auth` (password hashes, sessions, the login brake), `context` (what
handlers share), `login`, `query` (parameters read strictly, who may see what), `tables`
(columns and labels, shared by pages and exports), `pages` (HTML), `chart` (inline SVG),
`export` (CSV, .xlsx), `views` (the pages), `app` (headers, refusals, the server),
`reading` (the store opened for each read), `command` (the process), `password` (the
hash command).
"""
