"""motcua-sms: the SMS gateway daemon for one-stop administrative offices."""
