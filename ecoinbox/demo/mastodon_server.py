"""The old path of `ecoinbox.demo.mastodon.server`, kept while branches still import it from here."""

from ecoinbox.demo.mastodon.server import *
