"""The local Mastodon server of the demo and the tests, and its day of seeded traffic."""
