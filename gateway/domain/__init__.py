"""The gateway's vocabulary, with no I/O: message and part states with their one transition
table, dossiers, messages, the status payload, the mirror's rule.
"""
