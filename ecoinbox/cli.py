"""The command line: `ecoinbox` (the inbox) and its subcommands.

Heavy imports (Textual, the demo servers) happen inside the commands that need them, so
`ecoinbox list` and `ecoinbox --version` start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecoinbox import __version__
from ecoinbox.actions_cli import ACTION_COMMANDS, add_action_commands, run_action
from ecoinbox.app_start import (
    CliError,
    InboxCrashed,
    build_engine,
    open_inbox,
    open_inbox_store,
    open_sound_store,
    resolve_tokens,
)
from ecoinbox.config import ConfigError, Settings, load_config
from ecoinbox.model import Conversation, ConversationRow, View
from ecoinbox.sanitize import sanitize
from ecoinbox.secrets import Secret, SecretError
from ecoinbox.store import StoreError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecoinbox",
        description="A terminal inbox for community managers. Without a command, opens the inbox.",
    )
    parser.add_argument("--version", action="version", version=f"ecoinbox {__version__}")
    parser.add_argument("--config", type=Path,
                        help="the config file, before or after the command (default: `ecoinbox config path`)")  # fmt: skip
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "init", help="first run: asks about the brand, connects each account, writes the config"
    )
    configs = commands.add_parser("config", help="the config file: `config example` prints a commented one, "
                                                 "`config path` where it is read from")  # fmt: skip
    config_commands = configs.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    config_commands.add_parser("example", help="print the example config, every setting commented")
    config_commands.add_parser("path", help="print the path of the config file the commands read")

    demo = commands.add_parser("demo", help="run the inbox on local demo servers (no account needed)")
    demo.add_argument(
        "--servers-only", action="store_true", help="start the servers, print their URLs and config; no TUI"
    )
    demo.add_argument("--seed", type=int, default=1, help="seed of the demo traffic (default 1)")
    demo.add_argument(
        "--data-dir", type=Path, help="keep the demo's config and store here (default: a temp dir)"
    )
    demo.add_argument("--quiet-traffic", action="store_true", help="no new mentions after the seeded day")
    big = demo.add_mutually_exclusive_group()
    big.add_argument("--messages", type=int, metavar="N",
                     help="start from a generated store of N messages (e.g. 1000000; made once, about 2 min "
                          "per million, in the cache dir, then reused)")  # fmt: skip
    big.add_argument("--store", type=Path, metavar="PATH",
                     help="start from a copy of a store made by bench/generate.py")  # fmt: skip

    commands.add_parser("check", help="validate the config, reach each channel, name the keyring backend")

    auth = commands.add_parser(
        "auth",
        help="connect a channel: run its sign-in flow, keep the token (keyring, or your choice without one)",
    )
    auth.add_argument("channel", help="the channel's name in the config")
    auth.add_argument(
        "--paste", action="store_true", help="paste an existing token instead of the OAuth flow"
    )
    keep = auth.add_mutually_exclusive_group()
    keep.add_argument(
        "--print",
        action="store_true",
        help="keep the token nowhere: print it once on stdout (e.g. | pass insert -m ecoinbox/NAME)",
    )
    keep.add_argument(
        "--insecure-storage",
        action="store_true",
        help="save it in the plain credentials file (0600) in the config dir, without asking",
    )
    keep.add_argument(
        "--secure-only",
        action="store_true",
        help="never the plain credentials file: keyring, encrypted file or --print only",
    )

    poll = commands.add_parser(
        "poll", help="poll and send without the TUI, until stopped (inboxes on the same store follow it)"
    )
    poll.add_argument("--once", action="store_true", help="poll every channel once, send what is due, exit")

    listing = commands.add_parser("list", help="list conversations")
    listing.add_argument(
        "--state", choices=[v.value for v in View], default="inbox", help="which view (default inbox)"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument(
        "--query", metavar="QUERY",
        help='search instead of a view: words, "phrases", prefix*, from:, channel:, is:, lang:, '
             "before:, after:, has:link, -negation (newest match first)",
    )  # fmt: skip

    show = commands.add_parser("show", help="show one conversation")
    show.add_argument("id", type=int, help="the conversation id (from `ecoinbox list`)")
    show.add_argument("--json", action="store_true", help="as JSON")

    rules = commands.add_parser("rules", help="list the screening rules, or test them on a text")
    rule_commands = rules.add_subparsers(dest="rules_command", metavar="SUBCOMMAND")
    trial = rule_commands.add_parser(
        "test", help="which rules match TEXT and what they would do, with the spam and priority verdicts"
    )
    trial.add_argument(
        "text", help="the message, as the person would write it (- reads it from standard input)"
    )
    trial.add_argument("--channel", default="test", help="the channel it arrives on (a name from the config)")
    trial.add_argument("--author", default="someone", help="the author's handle")
    trial.add_argument("--lang", help="its language code, e.g. fr (default: detected)")
    trial.add_argument(
        "--reply", action="store_true", help="it answers a post (kind = reply); default: a mention"
    )
    add_action_commands(commands)
    return parser


def config_option_first(argv: Sequence[str]) -> list[str]:
    """`--config PATH` moved before the command, so it may be written after it too
    (`ecoinbox list --config x.toml`); nothing after a `--` is touched."""
    argv = list(argv)
    end = argv.index("--") if "--" in argv else len(argv)
    for i, word in enumerate(argv[:end]):
        if word.startswith("--config="):
            return [word, *argv[:i], *argv[i + 1 :]]
        if word == "--config" and i + 1 < end:
            return [word, argv[i + 1], *argv[:i], *argv[i + 2 :]]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(config_option_first(sys.argv[1:] if argv is None else argv))
    from ecoinbox.logs import setup_logging

    if args.command != "demo":  # the demo logs inside its own directory
        setup_logging()
    try:
        if args.command == "demo":
            from ecoinbox.demo.runner import run_demo

            if not args.servers_only:
                require_terminal()
            generated = args.store
            if args.messages is not None:
                from ecoinbox.demo.runner import generated_store

                if args.messages < 1:
                    raise CliError("--messages needs a positive number, e.g. --messages 1000000")
                generated = generated_store(args.messages)
            elif generated is not None and not generated.is_file():
                raise CliError(f"--store {generated}: no such file (make one with bench/generate.py)")
            return run_demo(seed=args.seed, servers_only=args.servers_only, data_dir=args.data_dir,
                            traffic=not args.quiet_traffic, generated=generated, apart=True)  # fmt: skip
        if args.command == "config":  # these two work without a config file
            from ecoinbox.config_files import run_config_command

            return run_config_command(args.config_command, args.config)
        if args.command == "init":
            from ecoinbox.init_wizard import run_init

            return run_init(args.config)
        settings = load_config(args.config)
        handler = run_action if args.command in ACTION_COMMANDS else {
            None: run_inbox, "check": run_check, "auth": run_auth, "poll": run_poll,
            "list": run_list, "show": run_show, "rules": run_rules,
        }[args.command]  # fmt: skip
        code = handler(settings, args)
        sys.stdout.flush()  # a reader that went away (`| head`) is noticed here, not at exit
        return code
    except BrokenPipeError:
        return reader_gone()
    except (ConfigError, SecretError, CliError, StoreError) as exc:
        print(f"ecoinbox: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 (anything else: one paragraph here, the traceback in the log)
        print(f"ecoinbox: {unexpected_message(exc)}", file=sys.stderr)
        return 1


def reader_gone() -> int:
    """The output's reader stopped reading (`ecoinbox list | head -1`): end quietly, as it got what
    it wanted. Python would otherwise complain when it flushes stdout at exit."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def unexpected_message(error: Exception) -> str:
    """What to tell the manager about a failure nobody planned for; the details go to the log."""
    from ecoinbox.logs import log_unexpected

    try:
        where = log_unexpected(error)
    except Exception:  # noqa: BLE001 (the report must not fail in turn)
        where = None
    details = f"The details are in {where}." if where else "No log file could be written for details."
    if isinstance(error, InboxCrashed):
        return (
            f"the inbox stopped on an unexpected error. This is a bug in ecoinbox: what was saved "
            f"before is intact. {details} Please attach that file to a bug report (tokens are masked "
            f"in it)."
        )
    if isinstance(error, OSError) and error.strerror:
        # The system's words only (never str(error), which may quote anything): e.g. a full disk.
        subject = f" ({error.filename})" if error.filename else ""
        return f"the system refused an operation{subject}: {error.strerror}. {details}"
    return (
        f"something unexpected went wrong ({type(error).__name__}). This is a bug in ecoinbox: what "
        f"was saved before is intact. {details} Please attach that file to a bug report (tokens are "
        f"masked in it)."
    )


def require_terminal() -> None:
    """Say so before any screen when the inbox cannot work here, instead of a hang or garbage.

    Textual reads keys from stdin and draws on stderr; it does not look at TERM itself, and with
    the input a pipe it would wait forever for a key.
    """
    streams = {"input": sys.stdin, "output": sys.stdout, "error output": sys.stderr}
    not_terminals = [name for name, stream in streams.items() if stream is None or not stream.isatty()]
    if not_terminals:
        named = ", ".join(not_terminals[:-1]) + " and " * (len(not_terminals) > 1) + not_terminals[-1]
        raise CliError(
            f"the inbox needs a terminal, and its {named} "
            f"{'is not one' if len(not_terminals) == 1 else 'are not'} (a pipe or a file). "
            f"`ecoinbox list` and `ecoinbox show ID` print to pipes and files; "
            f"`ecoinbox poll --once` polls without a screen."
        )
    if os.environ.get("TERM", "") == "dumb":
        raise CliError(
            "the inbox needs a terminal with cursor control, and TERM=dumb says this one has none. "
            "Run it in a terminal emulator, or set TERM=xterm-256color if your terminal can do that "
            "(most can). `ecoinbox list` and `ecoinbox show ID` work without one."
        )
    encoding = getattr(sys.stderr, "encoding", None) or "ascii"
    if codecs.lookup(encoding).name != "utf-8":
        raise CliError(
            f"the inbox needs a UTF-8 terminal, and the locale says this one is {encoding} "
            f"(LANG, LC_ALL or LC_CTYPE). Set LANG=C.UTF-8 (or your language's .UTF-8 locale); "
            f"if the terminal already shows UTF-8, PYTHONUTF8=1 is enough."
        )


# ---- the inbox -------------------------------------------------------------------------------


def run_inbox(settings: Settings, args: argparse.Namespace | None = None) -> int:
    tokens = resolve_tokens(settings)
    require_terminal()  # after the config's and the tokens' own errors, which say more
    return asyncio.run(open_inbox(settings, tokens))


# ---- check, auth, poll -------------------------------------------------------------------------


def run_check(settings: Settings, args: argparse.Namespace) -> int:
    from ecoinbox.secrets import keyring_backend_name

    where = settings.source or "(built in)"
    print(f"config: {where}: ok, {len(settings.channels)} channel(s)")
    store_ok = asyncio.run(_check_store(settings.data_path))
    try:
        backend = keyring_backend_name()
    except SecretError as exc:
        print(f"keyring: unavailable ({str(exc).splitlines()[0]})")
    else:
        usable = not backend.startswith(("keyring.backends.fail", "keyring.backends.null"))
        print(
            f"keyring: {backend}"
            if usable
            else f"keyring: none usable here ({backend}); `ecoinbox auth NAME` offers the ways without one"
        )
    from ecoinbox.credentials import credentials_path

    if credentials_path().is_file():
        print(f"credentials file: {credentials_path()} (plain text, 0600: tokens saved without a keyring)")
    failures = asyncio.run(_check_channels(settings))
    from ecoinbox.screening.engines import engines_from_settings  # SpamAssassin, Akismet

    engines = engines_from_settings(settings)
    for ok, line in engines.status():
        failures += not ok
        print(line if ok else f"{line}\n  new messages are screened without it until it answers")
    engines.close()
    return 1 if failures or not store_ok else 0


async def _check_store(path: Path) -> bool:
    """Read the whole store through (SQLite's quick check), without writing to it."""
    from ecoinbox.store import SQLiteStore, StoreDamaged

    if not path.exists():
        print(f"store: {path} (not created yet: the inbox creates it)")
        return True
    try:
        problems = await SQLiteStore(path).check_integrity()
    except StoreError as exc:
        print(f"store: {path}: FAILED: {exc}")
        return False
    if problems:
        print(f"store: {path}: DAMAGED: {StoreDamaged(path, '; '.join(problems[:3]))}")
        return False
    print(f"store: {path}: ok")
    return True


async def _check_channels(settings: Settings) -> int:
    from ecoinbox.channels import build_channel
    from ecoinbox.channels.base import ChannelError
    from ecoinbox.secrets import resolve_token

    failures = 0
    for config in settings.channels:
        try:
            token = await resolve_token(config)
        except SecretError as exc:
            failures += 1
            print(f"{config.name}: no token\n  " + str(exc).replace("\n", "\n  "))
            continue
        channel = build_channel(config, token, settings.brand)
        try:
            who, *warnings = (await channel.check()).splitlines() or [""]
            print(f"{config.name}: ok, {sanitize(who, single_line=True)}")
            for line in warnings:
                if line.strip():
                    print(f"  warning: {sanitize(line.strip(), single_line=True)}")
            for safeguard in (await channel.capabilities()).safeguards:
                print(f"  - {safeguard}")
        except ChannelError as exc:
            failures += 1
            print(f"{config.name}: FAILED: {exc}")
        finally:
            await channel.aclose()
    return failures


def run_auth(settings: Settings, args: argparse.Namespace) -> int:
    from ecoinbox.auth import AuthError, AuthOptions
    from ecoinbox.auth import run_auth as authorize

    try:
        channel = settings.channel(args.channel)
    except KeyError:
        names = ", ".join(c.name for c in settings.channels) or "none"
        raise CliError(
            f"no channel named {args.channel!r} in {settings.source} (channels: {names})"
        ) from None
    options = AuthOptions(paste=args.paste, print_only=args.print, secure_only=args.secure_only,
                          insecure_storage=args.insecure_storage)  # fmt: skip
    try:
        return authorize(channel, options)
    except AuthError as exc:
        raise CliError(str(exc)) from exc


def run_poll(settings: Settings, args: argparse.Namespace) -> int:
    tokens = resolve_tokens(settings)
    return asyncio.run(_poll_once(settings, tokens) if args.once else _poll_forever(settings, tokens))


async def _poll_forever(settings: Settings, tokens: dict[str, Secret]) -> int:
    """The engine without a screen: polls and sends while it holds the store's engine lease,
    stands by (and takes over if the holder dies) while another process does. SIGTERM or
    ctrl+c stop it cleanly; a SIGKILL loses nothing (the outbox is reconciled at the next start)."""
    import signal

    from ecoinbox.engine import ChannelStatus

    def say(line: str) -> None:
        print(f"{datetime.now().strftime('%H:%M:%S')} {sanitize(line, single_line=True)}", flush=True)

    store = await open_sound_store(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        engine = build_engine(settings, tokens, store)
        engine.add_role_listener(lambda role: say(f"engine: {role.describe()}"))
        last: dict[str, tuple[str, str]] = {}

        def on_status(status: ChannelStatus) -> None:
            if last.get(status.name) != (status.state, status.detail):  # not every poll: what changed
                last[status.name] = (status.state, status.detail)
                say(f"{status.name}: {status.state}{f' ({status.detail})' if status.detail else ''}")
                if status.state == "paused":
                    say(
                        f"{status.name}: {headless_resume_hint(settings.channel(status.name), engine.token_recheck)}"
                    )

        engine.add_status_listener(on_status)
        await engine.start()
        try:
            await stop.wait()
        finally:
            await engine.stop()
    finally:
        await store.close()
    say("stopped")
    return 0


def headless_resume_hint(channel: Any, recheck: float) -> str:
    """How a paused channel resumes without a screen (no key to press): the command to run, and
    whether this process notices the new token by itself."""
    if channel.token_env and not channel.token_cmd and not channel.keyring:
        return f"stop this poll (ctrl+c), export a new ${channel.token_env}, then start `ecoinbox poll` again"
    how = "update what token_cmd prints" if channel.token_cmd else f"run `ecoinbox auth {channel.name}`"
    return (f"{how} in another shell; this poll reads the token again every {recheck:g} s and resumes "
            f"by itself (no restart needed)")  # fmt: skip


async def _poll_once(settings: Settings, tokens: dict[str, Secret]) -> int:
    from ecoinbox.channels.base import ChannelError

    store = await open_sound_store(settings)
    engine = build_engine(settings, tokens, store)
    failures = 0
    try:
        for name, outcome in (await engine.poll_all_once()).items():
            if isinstance(outcome, ChannelError):
                failures += 1
                print(f"{name}: FAILED: {outcome}")
            else:
                print(f"{name}: {outcome.new} new, {outcome.updated} updated, "
                      f"{len(outcome.conversation_ids)} conversation(s) touched")  # fmt: skip
                for warning in engine.poll_warnings.get(name, ()):
                    print(f"{name}: WARNING: {sanitize(warning, single_line=True)}")
        sent = await engine.send_once()
        if sent is None:
            print(f"outbox: left to the running engine: {engine.role.describe()}")
        elif sent:
            print(f"outbox: {sent} repl{'y' if sent == 1 else 'ies'} attempted")
    finally:
        await engine.stop()
        await store.close()
    return 1 if failures else 0


# ---- list and show ------------------------------------------------------------------------------


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    query = None
    if args.query is not None:
        from ecoinbox.query import QueryError, parse_query

        try:
            query = parse_query(args.query)
        except QueryError as exc:
            raise CliError(f"the query does not parse: {exc}") from None
    return asyncio.run(_list(settings, View(args.state), args.limit, args.json, query))


async def _list(settings: Settings, view: View, limit: int, as_json: bool, query: Any = None) -> int:
    store = await open_inbox_store(settings, read_only_ok=True, screening=False)
    store.me = settings.team.me  # `--state mine`
    _say_if_read_only(store)
    try:
        rows: list[ConversationRow] = []
        if query is not None:
            cursor = None
            while len(rows) < limit:
                page, cursor = await store.search(
                    query, before_message=cursor, limit=min(100, limit - len(rows)), seen={r.id for r in rows}
                )
                rows.extend(page)
                if cursor is None or not page:
                    break
        after = None
        while query is None and len(rows) < limit:
            page = await store.conversation_page(view, after=after, limit=min(100, limit - len(rows)))
            if not page:
                break
            rows.extend(page)
            after = page[-1].sort_key
    finally:
        await store.close()
    now = datetime.now(UTC)
    for row in rows:
        if as_json:
            # ensure_ascii keeps every control or BiDi character escaped: safe on any terminal.
            print(json.dumps(_row_json(row)))
        else:
            print(_row_line(row, now))
    return 0


def _say_if_read_only(store) -> None:  # type: ignore[no-untyped-def]
    if store.read_only_reason is not None:
        print(f"ecoinbox: {store.read_only_reason} Opened read-only: what follows is what could still "
              f"be read.", file=sys.stderr)  # fmt: skip


def _row_json(row: ConversationRow) -> dict[str, Any]:
    return {
        "id": row.id, "channel": row.channel, "state": row.state.value,
        "needs_reply": row.needs_reply, "last_activity": row.last_activity.isoformat(),
        "author": row.author_label, "handle": row.author_handle, "snippet": row.snippet,
        "messages": row.message_count, "origin": row.origin.value, "reason": row.reason,
        "priority": row.priority, "priority_reason": row.priority_reason, "muted": row.muted,
    }  # fmt: skip


def _row_line(row: ConversationRow, now: datetime) -> str:
    from ecoinbox.humanize import age

    marker = "▲" if row.priority > 0 else "*" if row.needs_reply else " "  # as the inbox marks priority
    author = sanitize(row.author_label, single_line=True, max_chars=20)
    snippet = sanitize(row.snippet, single_line=True, max_chars=60)
    return (
        f"{row.id:>7} {marker} {row.channel:<10.10} {author:<20} {age(row.last_activity, now):>4}  {snippet}"
    )


def run_show(settings: Settings, args: argparse.Namespace) -> int:
    conversation = asyncio.run(_show(settings, args.id))
    if conversation is None:
        raise CliError(f"no conversation {args.id}; `ecoinbox list` shows the ids")
    if args.json:
        print(json.dumps(_conversation_json(conversation), indent=2))
        return 0
    now = datetime.now(UTC)
    print(_row_line(conversation.row, now))
    for stored in conversation.messages:
        m = stored.message
        who = sanitize(m.author.label, single_line=True, max_chars=40)
        handle = sanitize(m.author.handle, single_line=True, max_chars=60)
        print(f"\n{who} @{handle}  {m.created_at:%Y-%m-%d %H:%M} UTC{'  (you)' if m.is_ours else ''}")
        print("  " + sanitize(m.text).replace("\n", "\n  "))
    for item in conversation.outbox:
        print(f"\nreply {item.state.value}: " + sanitize(item.text, single_line=True))
        if item.error:
            print("  " + sanitize(item.error, single_line=True))
    return 0


async def _show(settings: Settings, conversation_id: int) -> Conversation | None:
    store = await open_inbox_store(settings, read_only_ok=True, screening=False)
    _say_if_read_only(store)
    try:
        return await store.conversation(conversation_id)
    finally:
        await store.close()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _conversation_json(conversation: Conversation) -> dict[str, Any]:
    return {
        **_row_json(conversation.row),
        "thread": [
            {
                "id": s.message.remote_id, "in_reply_to": s.message.in_reply_to,
                "author": s.message.author.label, "handle": s.message.author.handle,
                "created_at": s.message.created_at.isoformat(), "text": s.message.text,
                "url": s.message.url, "ours": s.message.is_ours, "deleted": s.message.deleted,
                "links": list(s.message.links), "visibility": s.message.visibility,
                "held": s.message.held, "edited_at": _iso(s.message.edited_at),
                "mentions": list(s.message.mentions),
            }
            for s in conversation.messages
        ],
        "outbox": [
            {"state": i.state.value, "text": i.text, "error": i.error, "attempts": i.attempts}
            for i in conversation.outbox
        ],
    }  # fmt: skip


# ---- rules -------------------------------------------------------------------------------------


def run_rules(settings: Settings, args: argparse.Namespace) -> int:
    from ecoinbox.screening.inbound import Screener

    screener = Screener.from_settings(settings)
    if args.rules_command != "test":
        if not screener.rules:
            print("No rules: add [[rules]] tables to the config (see config.example.toml).")
        for rule in screener.rules:
            print(f"{rule.name}: when {describe_match(rule.settings.match)}")
            print(f"    then {', '.join(map(str, rule.actions()))}")
        return 0
    message = _trial_message(args)
    assessment = screener.assess(message)
    matched = assessment.rule_names
    print(f"rules: {', '.join(matched) if matched else 'none match'}")
    for action in assessment.actions:
        print(f"  {action.actor}: {action}")
    print(assessment.verdict)
    print(assessment.priority)
    return 0


def describe_match(match: Any) -> str:
    """A rule's conditions in one line, as the config wrote them."""
    parts = []
    for key, value in (
        ("channel", match.channel), ("words", match.words), ("regex", match.regex),
        ("language", match.language), ("author", match.author), ("has_link", match.has_link),
        ("kind", match.kind), ("min_followers", match.min_followers),
    ):  # fmt: skip
        if value in (None, ()):
            continue
        shown = ", ".join(map(repr, value)) if isinstance(value, tuple) else repr(value)
        parts.append(f"{key} {shown}")
    return "; ".join(parts)


def _trial_message(args: argparse.Namespace) -> Any:
    from ecoinbox.engine.engine import with_languages
    from ecoinbox.htmltext import plain_to_text
    from ecoinbox.model import Author, Message, Origin

    author = Author(args.channel, args.author, args.author)
    text = plain_to_text(sys.stdin.read() if args.text == "-" else args.text)
    message = Message(
        channel=args.channel, remote_id="test", author=author, text=text.text, created_at=datetime.now(UTC),
        in_reply_to="post" if args.reply else None, language=args.lang, origin=Origin.MENTION,
        links=text.links,
    )  # fmt: skip
    return message if args.lang else with_languages([message])[0]


if __name__ == "__main__":
    sys.exit(main())
