"""The local Reddit (API and OAuth hosts) of the demo and the tests, and its seeded day."""
