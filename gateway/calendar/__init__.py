"""Working days, holidays, swapped days and quiet hours, as the apology run and the sender ask
them.
"""
