"""The embedded default: local servers that speak the platforms' APIs, seeded with traffic."""

# The local demo server's token: public, printed in docs, worth nothing anywhere else.
DEMO_TOKEN = "demo-token"
