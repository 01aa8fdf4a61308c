"""The old path of `ecoinbox.demo.discourse.server`, kept while branches still import it from here."""

from ecoinbox.demo.discourse.server import *
