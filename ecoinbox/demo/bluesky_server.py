"""The old path of `ecoinbox.demo.bluesky.server`, kept while branches still import it from here."""

from ecoinbox.demo.bluesky.server import *
