"""The demo mailbox: a private Dovecot (IMAP) and an SMTP server on loopback, and seeded mail."""
