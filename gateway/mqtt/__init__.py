"""One persistent MQTT 5 session to the broker: acknowledgements after commit, flow control,
ordered publishing.
"""
