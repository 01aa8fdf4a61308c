"""The embedded default: local servers that speak the platforms' APIs, seeded with traffic."""

# The local demo servers' tokens: public, printed in docs, worth nothing anywhere else.
DEMO_TOKEN = "demo-token"
DEMO_FORUM_KEY = "demo-api-key"
DEMO_BLOG_PASSWORD = "demo wpap pass word 2026 blog"
DEMO_REDDIT_REFRESH_TOKEN = "demo-reddit-refresh-token"
DEMO_BLUESKY_PASSWORD = "demo-demo-demo-demo"  # the demo PDS's app password for the brand
DEMO_MAIL_PASSWORD = "demo-mail-password"
DEMO_TOKENS = {
    "mastodon": DEMO_TOKEN, "forum": DEMO_FORUM_KEY, "bluesky": DEMO_BLUESKY_PASSWORD,
    "blog": DEMO_BLOG_PASSWORD, "reddit": DEMO_REDDIT_REFRESH_TOKEN, "email": DEMO_MAIL_PASSWORD,
}  # fmt: skip
