"""Out of the store: the sender (due messages to the SMSC), the receipt tracker, the status
publisher.
"""
