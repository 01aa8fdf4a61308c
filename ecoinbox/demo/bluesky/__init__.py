"""The local Bluesky PDS and AppView of the demo and the tests, and its seeded day."""
