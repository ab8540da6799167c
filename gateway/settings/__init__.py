"""The configuration file read into typed sections, each key's line kept for errors; a section
belongs to the part it configures.
"""
