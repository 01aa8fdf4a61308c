"""A local YouTube Data API v3 (comments), for the demo and the tests."""
