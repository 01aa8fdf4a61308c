"""The demo's comment feeds: a fan blog (a WordPress site) read through RSS and Atom."""
