"""The local Discourse forum of the demo and the tests, and its two weeks of seeded topics."""
