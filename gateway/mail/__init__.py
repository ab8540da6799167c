"""E-mail notices: the letter (text, the receipt's QR code), the address check, and the SMTP
sender. Foundations: it knows its settings section, not the store or the outbound path,
which call it through `letter.build`, `address.address_ok` and `smtp.MailSender`.
"""
