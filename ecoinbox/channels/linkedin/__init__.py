"""LinkedIn organization pages: comments on the brand's posts through the Community Management API."""
