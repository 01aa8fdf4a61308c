"""The demo's MediaWiki: a local api.php with the Acme product wiki's talk pages."""
