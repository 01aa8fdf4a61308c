"""The old path of `ecoinbox.demo.email.seed`, kept while branches still import it from here."""

from ecoinbox.demo.email.seed import *
