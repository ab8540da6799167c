"""SMPP 3.4: codec (pdu), text encoding, receipts, the ESME session and a test SMSC."""
