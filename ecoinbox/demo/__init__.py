"""The embedded default: local servers that speak the platforms' APIs, seeded with traffic."""

# The local demo servers' tokens: public, printed in docs, worth nothing anywhere else. Each
# platform's demo site lists its own in TOKENS (`ecoinbox.demo.site.all_tokens`).
DEMO_TOKEN = "demo-token"
DEMO_FORUM_KEY = "demo-api-key"
DEMO_BLOG_PASSWORD = "demo wpap pass word 2026 blog"
DEMO_REDDIT_REFRESH_TOKEN = "demo-reddit-refresh-token"
DEMO_BLUESKY_PASSWORD = "demo-demo-demo-demo"  # the demo PDS's app password for the brand
DEMO_MAIL_PASSWORD = "demo-mail-password"
