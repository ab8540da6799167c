"""Phone numbers: validate and normalise what desks typed, refuse with a reason, mask what logs
and statuses show.
"""
