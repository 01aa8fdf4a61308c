"""Every inbox action from the command line: `ecoinbox reply/done/open/spam/snooze/tag/assign/
note/redirect/outbox`, for scripts and quick answers over SSH.

Each writes the same intent through the same store call as the inbox's key (a reply is queued in
the durable outbox, sent by the running engine or the next `ecoinbox poll --once`), recorded in
the history under `[team] me`. Exit codes say what failed (see `EXIT_CODES`); `--json` prints
one JSON object (`outbox list --json`: one per line) on success.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecoinbox.actions import (
    answerable,
    canned_values,
    fill_canned,
    is_feed,
    parse_tag_edit,
    reply_target,
    topic_body,
    topic_reply_template,
    topic_title,
)
from ecoinbox.config import Settings
from ecoinbox.model import Conversation, Message, OutboxState, State
from ecoinbox.sanitize import sanitize
from ecoinbox.store import Store

OK, ERROR, USAGE, NOT_FOUND, CONFLICT = 0, 1, 2, 3, 4
EXIT_CODES = {
    OK: "done",
    ERROR: "it could not be done (the store, the config, a read-only channel...): the message says why",
    USAGE: "the command was incomplete or wrong (no text, an unknown time or team member...)",
    NOT_FOUND: "no such conversation, message, canned reply or outbox reply",
    CONFLICT: "it is already settled: the reply is being sent or was sent, or one already waits",
}
"""What each exit code of the action commands means (README lists them too)."""

VISIBILITIES = ("public", "unlisted", "private", "direct")


class ActionFailed(Exception):
    """An action that could not be done: the message for the manager, and the exit code."""

    def __init__(self, message: str, code: int = ERROR) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Done:
    """What an action did: one line for a person, one object for a script."""

    said: str
    data: dict[str, Any]


Action = Callable[[Settings, Store, argparse.Namespace], Awaitable[Done]]


# ---- the parsers -----------------------------------------------------------------------------


ACTION_COMMANDS = ("reply", "done", "open", "spam", "snooze", "tag", "assign", "note", "redirect", "outbox")
"""The commands `add_action_commands` adds; `run_action` runs each of them."""


def add_action_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the action subcommands (`ACTION_COMMANDS`) to the command line's `commands`."""
    codes = "exit codes: " + "; ".join(f"{code} {what}" for code, what in EXIT_CODES.items())

    def command(name: str, help: str, action: Action) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help, description=help, epilog=codes)
        parser.set_defaults(action=action)
        return parser

    def with_id(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("id", type=int, help="the conversation id (from `ecoinbox list`)")
        parser.add_argument("--json", action="store_true", help="print what was done as JSON")
        return parser

    reply = with_id(command("reply", "queue a reply in the outbox (sent by the running engine or the next poll)",
                            _reply))  # fmt: skip
    reply.add_argument("--text", help="the reply (default: read from standard input)")
    reply.add_argument("--to-message", metavar="MID",
                       help="the message id it answers (`ecoinbox show ID --json`; default: their newest)")  # fmt: skip
    reply.add_argument("--visibility", choices=VISIBILITIES,
                       help="Mastodon: never more public than the message answered (default: the same)")  # fmt: skip
    reply.add_argument("--as-is", action="store_true",
                       help="send the text exactly; by default the @mentions the platform needs come first")  # fmt: skip
    reply.add_argument("--approve", action="store_true",
                       help="the message is held for moderation: approve it, then reply")  # fmt: skip
    reply.add_argument("--again", action="store_true",
                       help="queue it even though a reply to the same message still waits to go out")  # fmt: skip

    for name, state, what in (("done", State.DONE, "mark conversations done"),
                              ("open", State.OPEN, "reopen conversations (back to the Inbox)"),
                              ("spam", State.SPAM, "mark conversations spam (teaches the spam filter)")):  # fmt: skip
        parser = command(name, what, _set_state)
        parser.add_argument("ids", type=int, nargs="+", metavar="ID", help="conversation ids")
        parser.add_argument("--json", action="store_true", help="print what changed as JSON")
        parser.set_defaults(state=state)

    snooze = with_id(command("snooze", "snooze a conversation until WHEN", _snooze))
    snooze.add_argument("when", help='e.g. "2d", "3h", "14:00", "mon 9:00", "tomorrow morning", "next week"')

    tag = with_id(command("tag", "add (+tag or tag) and remove (-tag) tags", _tag))
    # The edits are taken as they are: "-later" removes a tag, it is not an option.
    tag.add_argument("edits", nargs=argparse.REMAINDER, metavar="+TAG|-TAG", help="e.g. +refund -later")

    assign = with_id(command("assign", "assign a conversation to a team member", _assign))
    assign.add_argument("who", help='"me", a name from [team] members, or "nobody"')

    note = with_id(command("note", "add an internal note (the team sees it; never sent)", _note))
    note.add_argument("--text", help="the note (default: read from standard input)")

    redirect = with_id(command("redirect", "bring the person to the forum: a canned reply or a new topic "
                               "(the conversation is done, redirected)", _redirect))  # fmt: skip
    how = redirect.add_mutually_exclusive_group()
    how.add_argument("--canned", metavar="NAME", help="the canned reply to send (without: the suggestions)")
    how.add_argument("--new-topic", action="store_true",
                     help="open a forum topic from their question and reply with its address")  # fmt: skip
    redirect.add_argument("--value", action="append", default=[], metavar="VAR=TEXT",
                          help="fill a variable the canned reply needs (repeatable)")  # fmt: skip
    redirect.add_argument(
        "--title", help="--new-topic: the topic's title (default: from their first sentence)"
    )

    outbox = command("outbox", "list the replies waiting to go out, or cancel one", _outbox)
    outbox.add_argument("what", nargs="?", choices=("list", "cancel"), default="list")
    outbox.add_argument(
        "item", nargs="?", type=int, metavar="ID", help="cancel: the reply's id (from the list)"
    )
    outbox.add_argument("--json", action="store_true", help="one JSON object per line (cancel: one)")


def run_action(settings: Settings, args: argparse.Namespace) -> int:
    """Run the action command in `args`; its exit code (see `EXIT_CODES`)."""
    try:
        done = asyncio.run(_run(settings, args))
    except ActionFailed as exc:
        print(f"ecoinbox: {exc}", file=sys.stderr)
        return exc.code
    if getattr(args, "json", False):
        if "lines" in done.data:  # `outbox list --json`: one object per line, as `list --json`
            for line in done.data["lines"]:
                print(json.dumps(line))
        else:
            print(json.dumps(done.data))
    elif done.said:
        print(done.said)
    return OK


async def _run(settings: Settings, args: argparse.Namespace) -> Done:
    from ecoinbox.screening.inbound import Screener
    from ecoinbox.store import open_store

    store = await open_store(settings.data_path)  # a store that cannot be written: its own words, exit 1
    try:
        await store.attach_screener(Screener.from_settings(settings))  # spam marks teach the filter
        store.me = settings.team.me
        action: Action = args.action
        return await action(settings, store, args)
    finally:
        await store.close()


# ---- helpers ---------------------------------------------------------------------------------


def _read_text(given: str | None, what: str) -> str:
    """`--text`, else standard input (not a terminal: a script pipes it); never empty."""
    if given is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise ActionFailed(
                f"no {what}: give it with --text, or pipe it in (echo ... | ecoinbox ...)", USAGE
            )
        given = sys.stdin.read()
    text = given.strip()
    if not text:
        raise ActionFailed(f"the {what} is empty: nothing was done", USAGE)
    return text


async def _conversation(store: Store, conversation_id: int) -> Conversation:
    conversation = await store.conversation(conversation_id)
    if conversation is None or not conversation.messages:
        raise ActionFailed(f"no conversation {conversation_id}; `ecoinbox list` shows the ids", NOT_FOUND)
    return conversation


async def _exists(store: Store, ids: list[int]) -> None:
    missing = [i for i in ids if await store.conversation_row(i) is None]
    if missing:
        named = ", ".join(map(str, missing))
        raise ActionFailed(f"no conversation {named}; `ecoinbox list` shows the ids. Nothing was changed.",
                           NOT_FOUND)  # fmt: skip


def _parent(conversation: Conversation, remote_id: str | None) -> Message:
    if remote_id is None:
        return reply_target(conversation)
    for stored in answerable(conversation):  # as `[` `]` pick in the thread
        if stored.message.remote_id == remote_id:
            return stored.message
    raise ActionFailed(
        f"no message {remote_id!r} to answer in conversation {conversation.row.id}; "
        f"`ecoinbox show {conversation.row.id} --json` lists their ids",
        NOT_FOUND,
    )


def _who(parent: Message) -> str:
    return sanitize(f"{parent.author.label} on {parent.channel}", single_line=True, max_chars=80)


def offline_channel(settings: Settings, name: str) -> Any:
    """The channel object, never connected: what it says of a stored message (its reply's
    @mentions, whether it can moderate) needs no token, so none is read (a locked keyring or a
    token command must not stand in a script's way); a placeholder fills the constructor's."""
    from ecoinbox.channels import build_channel
    from ecoinbox.secrets import Secret

    return build_channel(settings.channel(name), Secret("offline-never-sent"), settings.brand)


async def _reply_prefix(settings: Settings, parent: Message) -> str:
    """The @mentions a reply must start with on its channel, as the inbox's reply box starts."""
    channel = offline_channel(settings, parent.channel)
    try:
        return channel.reply_prefix(parent, next(iter(settings.brand.handles), None))
    finally:
        await channel.aclose()


def _with_prefix(prefix: str, text: str) -> str:
    return text if not prefix or text.casefold().startswith(prefix.strip().casefold()) else prefix + text


async def _replyable(settings: Settings, store: Store, parent: Message, *, again: bool) -> None:
    """Refuse a reply that cannot or should not be queued, in words, before anything is written."""
    try:
        settings.channel(parent.channel)
    except KeyError:
        raise ActionFailed(
            f"channel {parent.channel!r} is not in the config any more: cannot reply there"
        ) from None
    if is_feed(settings, parent.channel):
        url = f" Reply on the page: {parent.url}" if parent.url else ""
        raise ActionFailed(sanitize(f"channel {parent.channel!r} is read-only (a feed): ecoinbox cannot reply "
                                    f"there.{url}", single_line=True))  # fmt: skip
    if again:
        return
    waiting = [
        u.item for u in await store.unsent_replies()
        if u.item.channel == parent.channel and u.item.parent_remote_id == parent.remote_id
    ]  # fmt: skip
    if waiting:
        raise ActionFailed(
            f"reply {waiting[0].id} to this message still waits to go out ({waiting[0].state.value}): "
            f"`ecoinbox outbox` shows it; add --again to queue another one anyway",
            CONFLICT,
        )


async def _approvable(settings: Settings, parent: Message) -> None:
    """A held message can be answered only by approving it first, where the channel can."""
    from ecoinbox.channels.base import ModeratedChannel

    channel = offline_channel(settings, parent.channel)
    try:
        moderated = isinstance(channel, ModeratedChannel)
    finally:
        await channel.aclose()
    if not moderated:
        raise ActionFailed(sanitize(f"this message is held for moderation and ecoinbox cannot approve it on "
                                    f"{parent.channel!r}: approve it there first, then reply"))  # fmt: skip


# ---- the actions -------------------------------------------------------------------------------


async def _reply(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    conversation = await _conversation(store, args.id)
    parent = _parent(conversation, args.to_message)
    await _replyable(settings, store, parent, again=args.again)
    if parent.held and not args.approve:
        raise ActionFailed("this message is held for moderation: a reply stays invisible until it is "
                           "approved. Add --approve to approve it and reply.", USAGE)  # fmt: skip
    if parent.held:
        await _approvable(settings, parent)
    text = _read_text(args.text, "reply")
    if not args.as_is:
        text = _with_prefix(await _reply_prefix(settings, parent), text)
    # No hold: a script has no `u` to take it back (`ecoinbox outbox cancel` does, until it is sent).
    item = await store.queue_reply(
        conversation.row.id, parent, text, visibility=args.visibility or parent.visibility,
        language=parent.language, approve_parent=parent.held, actor=settings.team.me,
    )  # fmt: skip
    return Done(
        f"Reply {item.id} queued to {_who(parent)}: the running inbox or `ecoinbox poll` sends it "
        f"(`ecoinbox outbox cancel {item.id}` takes it back until then).",
        {"outbox_id": item.id, "conversation": conversation.row.id, "channel": parent.channel,
         "to_message": parent.remote_id, "state": item.state.value, "text": item.text,
         "visibility": item.visibility},
    )  # fmt: skip


async def _triage(settings: Settings, store: Store, ids: list[int], said: str, **action: Any) -> Done:
    await _exists(store, ids)
    before = await store.apply_triage(ids, actor=settings.team.me, **action)
    changed = [t.conversation_id for t in before]
    unchanged = [i for i in dict.fromkeys(ids) if i not in changed]
    words = f"{said}: {', '.join(map(str, changed))}." if changed else "Nothing changed."
    if changed and unchanged:
        words += f" Already so: {', '.join(map(str, unchanged))}."
    rows = [await store.conversation_row(i) for i in dict.fromkeys(ids)]
    return Done(words, {
        "changed": changed, "unchanged": unchanged,
        "conversations": [{"id": r.id, "state": r.state.value, "tags": list(r.tags), "assignee": r.assignee,
                           "snoozed_until": r.snoozed_until.isoformat() if r.snoozed_until else None}
                          for r in rows if r is not None],
    })  # fmt: skip


async def _set_state(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    said = {State.OPEN: "Reopened", State.DONE: "Marked done", State.SPAM: "Marked spam"}[args.state]
    return await _triage(settings, store, args.ids, said, state=args.state)


async def _snooze(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    from ecoinbox.snooze import SnoozeError, describe_wake, wake_time

    now = datetime.now().astimezone()
    try:
        until = wake_time(args.when, now)
    except SnoozeError as exc:
        raise ActionFailed(str(exc), USAGE) from None
    said = f"Snoozed until {describe_wake(until, now)}"
    return await _triage(settings, store, [args.id], said, state=State.SNOOZED, snoozed_until=until)


async def _tag(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    edits = [word for word in args.edits if word != "--json"]
    args.json = args.json or len(edits) < len(args.edits)  # `--json` after the tags is still the option
    added, removed = parse_tag_edit(" ".join(edits))
    if not added and not removed:
        raise ActionFailed("no tags given: e.g. `ecoinbox tag 12 +refund -later`", USAGE)
    words = " ".join([*("#" + t for t in added), *("-#" + t for t in removed)])
    return await _triage(settings, store, [args.id], f"Tagged {words}", add_tags=added, remove_tags=removed)


async def _assign(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    team = settings.team
    names = [team.me, *team.members]
    who = {"me": team.me, "nobody": ""}.get(args.who, args.who)
    if who and who not in names:
        close = difflib.get_close_matches(who, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ActionFailed(f"{args.who!r} is not in the team{hint}: [team] me and members in the config "
                           f"name who can be assigned ({', '.join(names)}), or \"nobody\"", USAGE)  # fmt: skip
    said = f"Assigned to {who}" if who else "Unassigned"
    return await _triage(settings, store, [args.id], said, assignee=who)


async def _note(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    await _exists(store, [args.id])
    text = _read_text(args.text, "note")
    note = await store.add_note(args.id, text, author=settings.team.me)
    return Done(f"Note saved in conversation {args.id} (internal: never sent).",
                {"conversation": args.id, "note": note.id, "author": note.author, "text": note.text})  # fmt: skip


async def _redirect(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    forum = settings.forum
    if forum is None:
        raise ActionFailed("no forum is configured: add a discourse channel and a [forum] section "
                           "(see config.example.toml)")  # fmt: skip
    conversation = await _conversation(store, args.id)
    parent = reply_target(conversation)
    await _replyable(settings, store, parent, again=False)
    prefix = await _reply_prefix(settings, parent)
    language = conversation.row.language
    values = canned_values(settings, parent)
    if args.new_topic:
        return await _new_topic(settings, store, conversation, parent, prefix, values, args.title)
    if args.canned is None:
        return await _suggest(settings, store, conversation)
    reply = next((r for r in settings.canned if r.name == args.canned), None)
    if reply is None:
        close = difflib.get_close_matches(args.canned, [r.name for r in settings.canned], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ActionFailed(f"no canned reply {args.canned!r}{hint}; `ecoinbox redirect {args.id}` lists "
                           f"those that suit this conversation", NOT_FOUND)  # fmt: skip
    values.update(_given_values(args.value))
    _, rendered, link = fill_canned(reply, language, values)
    if rendered.missing:
        needed = " ".join(f"--value {name}=..." for name in rendered.missing)
        raise ActionFailed(
            f"canned reply {reply.name!r} needs {', '.join(rendered.missing)}: add {needed}", USAGE
        )
    text = _with_prefix(prefix, rendered.text)
    item = await store.queue_reply(
        conversation.row.id, parent, text, visibility=parent.visibility, language=parent.language,
        canned=(reply.name,), link=link, actor=settings.team.me,
    )  # fmt: skip
    await store.set_state([conversation.row.id], State.DONE, actor=settings.team.me, reason="redirected")
    return Done(
        f"Redirect {item.id} queued to {_who(parent)} ({reply.name}); the conversation is done (redirected).",
        {"outbox_id": item.id, "conversation": conversation.row.id, "canned": reply.name, "link": link,
         "text": item.text, "state": State.DONE.value, "reason": "redirected"},
    )  # fmt: skip


def _given_values(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise ActionFailed(f"--value {pair!r}: write it NAME=TEXT, e.g. --value order=12345", USAGE)
        values[name.strip()] = value
    return values


async def _new_topic(
    settings: Settings, store: Store, conversation: Conversation, parent: Message, prefix: str,
    values: dict[str, str], title: str | None,
) -> Done:  # fmt: skip
    forum = settings.forum
    assert forum is not None
    try:
        settings.channel(forum.channel)
    except KeyError:
        raise ActionFailed(f"the forum's channel {forum.channel!r} is not in the config") from None
    from ecoinbox.replies import render

    values = dict(values, topic_url="{topic_url}", topic_title="{topic_title}")  # filled once it exists
    reply_text = prefix + render(topic_reply_template(settings, conversation.row.language), values).text
    title = (title or topic_title(parent.text, parent.author.label)).strip()
    topic, reply = await store.queue_redirect_topic(
        conversation.row.id, forum_channel=forum.channel, title=title, body=topic_body(parent, parent.channel),
        category=forum.category, parent=parent, reply_text=reply_text, visibility=parent.visibility,
        language=parent.language, actor=settings.team.me,
    )  # fmt: skip
    return Done(
        f"Forum topic {topic.id} queued ({sanitize(title, single_line=True)}); the reply to {_who(parent)} "
        f"with its address follows once it exists. The conversation is done (redirected).",
        {"topic_outbox_id": topic.id, "outbox_id": reply.id, "conversation": conversation.row.id,
         "title": title, "text": reply.text, "state": State.DONE.value, "reason": "redirected"},
    )  # fmt: skip


async def _suggest(settings: Settings, store: Store, conversation: Conversation) -> Done:
    """No choice given: the canned replies that suit this conversation, best first, and exit 2."""
    from ecoinbox.actions import redirect_suggestions
    from ecoinbox.replies import LinkRanker

    ranker = LinkRanker(settings.canned, await store.link_uses())
    suggestions = redirect_suggestions(ranker, conversation, datetime.now().astimezone())
    lines = [f"  --canned {s.reply.name:<20} {sanitize(s.why, single_line=True)}" for s in suggestions]
    lines.append("  --new-topic              a forum topic made from their question")
    raise ActionFailed(
        f"choose how to redirect conversation {conversation.row.id}:\n" + "\n".join(lines), USAGE
    )


async def _outbox(settings: Settings, store: Store, args: argparse.Namespace) -> Done:
    if args.what == "cancel":
        if args.item is None:
            raise ActionFailed("which reply? `ecoinbox outbox` lists them: ecoinbox outbox cancel ID", USAGE)
        item = await store.cancel_reply(args.item, actor=settings.team.me)
        if item is None:
            known = {i.id: i for i in await store.outbox_items()}
            if args.item not in known:
                raise ActionFailed(
                    f"no reply {args.item} in the outbox; `ecoinbox outbox` lists them", NOT_FOUND
                )
            state = known[args.item].state
            why = {OutboxState.SENT: "it was sent", OutboxState.DISCARDED: "it was already cancelled",
                   OutboxState.SENDING: "it is being sent this instant"}.get(state, f"it is {state.value}")  # fmt: skip
            raise ActionFailed(f"reply {args.item} cannot be cancelled: {why}", CONFLICT)
        return Done(f"Cancelled reply {item.id}; it stays in the history.",
                    {"outbox_id": item.id, "state": OutboxState.DISCARDED.value})  # fmt: skip
    if args.item is not None:
        raise ActionFailed("`ecoinbox outbox list` takes no id (cancel does)", USAGE)
    lines, said = [], []
    for unsent in await store.unsent_replies():
        item = unsent.item
        lines.append({
            "id": item.id, "conversation": item.conversation_id, "channel": item.channel, "kind": item.kind,
            "state": item.state.value, "to": unsent.to, "text": item.text, "title": item.title,
            "error": item.error, "attempts": item.attempts, "needs_decision": unsent.needs_decision,
        })  # fmt: skip
        whom = sanitize(unsent.to or item.title, single_line=True, max_chars=24)
        text = sanitize(item.text, single_line=True, max_chars=60)
        said.append(f"{item.id:>6} {item.state.value:<8} {item.channel:<10.10} {whom:<24} {text}")
        if item.error:
            said.append(f"{'':>6} {sanitize(item.error, single_line=True, max_chars=100)}")
    return Done("\n".join(said) if said else "Nothing waits to go out.", {"lines": lines})
