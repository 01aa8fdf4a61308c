"""`python -m ecoinbox.demo token [CHANNEL]`: print a demo server's public token (the demo's token_cmd).

`python -m ecoinbox.demo serve ...` is the servers' process of `ecoinbox demo`
(ecoinbox.demo.servers_process): not a command for people.
"""

import sys

from ecoinbox.demo.site import all_tokens


def serve(args: list[str]) -> int:
    import argparse
    import asyncio
    from pathlib import Path

    from ecoinbox.demo.runner import serve as serve_demo

    parser = argparse.ArgumentParser(prog="python -m ecoinbox.demo serve")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--quiet-traffic", action="store_true")
    parser.add_argument("--generated", type=Path)
    options = parser.parse_args(args)
    return asyncio.run(serve_demo(seed=options.seed, data_dir=options.data_dir,
                                  traffic=not options.quiet_traffic, generated=options.generated))  # fmt: skip


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["serve"]:
        sys.exit(serve(args[1:]))
    tokens = all_tokens()
    if not args or args[0] != "token" or len(args) > 2 or (len(args) == 2 and args[1] not in tokens):
        sys.exit(f"usage: python -m ecoinbox.demo token [{'|'.join(tokens)}]")
    print(tokens[args[1] if len(args) == 2 else "mastodon"])
