"""The local WordPress sites (REST API and comment feeds) of the demo and the tests, and their blogs."""
