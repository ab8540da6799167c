"""The MO path: an SMPP MO in, its keyword found, its handler asked, its reply stored. `api.py`
is all a handler imports.
"""
