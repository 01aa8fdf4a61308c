"""A local LinkedIn (Community Management API): an organization page, its posts and comments."""
