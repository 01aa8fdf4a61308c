"""The old path of `ecoinbox.demo.email.server`, kept while branches still import it from here."""

from ecoinbox.demo.email.server import *
