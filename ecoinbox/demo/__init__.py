"""The embedded default: local servers that speak the platforms' APIs, seeded with traffic."""

# The local demo servers' tokens: public, printed in docs, worth nothing anywhere else.
DEMO_TOKEN = "demo-token"
DEMO_FORUM_KEY = "demo-api-key"
DEMO_MAIL_PASSWORD = "demo-mail-password"
DEMO_TOKENS = {"mastodon": DEMO_TOKEN, "forum": DEMO_FORUM_KEY, "email": DEMO_MAIL_PASSWORD}
