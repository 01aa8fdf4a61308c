"""`python -m ecoinbox.demo token [CHANNEL]`: print a demo server's public token (the demo's token_cmd)."""

import sys

from ecoinbox.demo.site import all_tokens

if __name__ == "__main__":
    args = sys.argv[1:]
    tokens = all_tokens()
    if not args or args[0] != "token" or len(args) > 2 or (len(args) == 2 and args[1] not in tokens):
        sys.exit(f"usage: python -m ecoinbox.demo token [{'|'.join(tokens)}]")
    print(tokens[args[1] if len(args) == 2 else "mastodon"])
