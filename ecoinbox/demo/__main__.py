"""`python -m ecoinbox.demo token`: print the demo server's public token (the demo's token_cmd)."""

import sys

from ecoinbox.demo import DEMO_TOKEN

if __name__ == "__main__":
    if sys.argv[1:] != ["token"]:
        sys.exit("usage: python -m ecoinbox.demo token")
    print(DEMO_TOKEN)
