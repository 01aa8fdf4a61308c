"""`python -m ecoinbox.demo token [CHANNEL]`: print a demo server's public token (the demo's token_cmd)."""

import sys

from ecoinbox.demo import DEMO_TOKENS

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "token" or len(args) > 2 or (len(args) == 2 and args[1] not in DEMO_TOKENS):
        sys.exit(f"usage: python -m ecoinbox.demo token [{'|'.join(DEMO_TOKENS)}]")
    print(DEMO_TOKENS[args[1] if len(args) == 2 else "mastodon"])
