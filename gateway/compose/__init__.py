"""Texts citizens receive: templates, the composer that turns a transition, a job or an apology
into a message, the 17:30 apology run.
"""
