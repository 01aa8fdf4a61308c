"""The old path of `ecoinbox.demo.reddit.server`, kept while branches still import it from here."""

from ecoinbox.demo.reddit.server import *
