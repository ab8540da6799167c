"""MQTT work into the store: payloads read strictly, repeated ids told apart, each batch
committed before it is acknowledged.
"""
