"""The old path of `ecoinbox.demo.discourse.seed`, kept while branches still import it from here."""

from ecoinbox.demo.discourse.seed import *
