"""The old path of `ecoinbox.demo.wordpress.server`, kept while branches still import it from here."""

from ecoinbox.demo.wordpress.server import *
