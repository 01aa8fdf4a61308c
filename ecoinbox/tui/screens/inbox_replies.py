"""The inbox's replies: reply, redirect to the forum (a canned reply or a new topic), settle a
stuck reply, and take back a held one into its box. Each ends as an intent in the store's outbox."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING

from textual.content import Content

from ecoinbox.actions import (
    answerable,
    fill_canned,
    is_feed,
    reply_refusal,
    reply_target,
    topic_body,
    topic_title,
)
from ecoinbox.channels.base import ModeratedChannel
from ecoinbox.keymap import keys_of
from ecoinbox.model import (
    ConcurrentReply,
    Conversation,
    Draft,
    DraftKind,
    Message,
    OutboxItem,
    OutboxState,
    ReplyDecision,
    ReplyMark,
    State,
)
from ecoinbox.replies import render
from ecoinbox.replying import ReplyDraft
from ecoinbox.sanitize import safe_url, sanitize
from ecoinbox.store import StateChange, StoreError
from ecoinbox.tui.drafts import DraftKeeper, open_draft
from ecoinbox.tui.screens.canned import ValuePrompt
from ecoinbox.tui.screens.compose import ComposedReply, ComposeScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen
from ecoinbox.tui.screens.help import describe_keys
from ecoinbox.tui.screens.outbox import EDIT, OutboxDecisionScreen
from ecoinbox.tui.screens.redirect import NewTopicScreen, RedirectScreen, TopicDraft
from ecoinbox.tui.screens.triage import UndoStep
from ecoinbox.tui.screens.undo_send import HeldReply
from ecoinbox.tui.store_notices import notify_store_failure
from ecoinbox.tui.targets import Target, person, sentence

if TYPE_CHECKING:
    from ecoinbox.tui.screens import inbox


class ReplyFlows:
    """The reply flows of the inbox screen, which calls them from its keys."""

    def __init__(self, screen: inbox.InboxScreen) -> None:
        self.screen = screen

    async def take_back(self, step: UndoStep) -> None:
        """`u` on a reply held before it goes out: withdrawn from the outbox if no sender took it
        yet (the store decides, atomically), and back in its box, unsent."""
        held = step.reply
        assert held is not None
        store = self.screen.app.store
        taken = await store.withdraw_reply(held.item_id, actor=self.screen._me())
        self.screen.undo.steps.pop()  # either way it is settled: taken back, or on its way
        self.screen._render_status()
        if taken is None:
            self.screen.notify(
                f"Too late: the reply to {held.whom()} is being sent (or was).", markup=False, timeout=5
            )
            return
        actor = f"{self.screen._me()} (undo)"
        for change in step.changes:  # a redirect's "done" goes with its reply
            await store.set_state([change.conversation_id], change.old, actor=actor)
        await self.screen.conversations.reload(select=held.conversation_id)
        draft = self.screen.app.reply_draft(held.parent, held.language)
        if draft is None:
            text = sanitize(taken.text, max_chars=2000)
            self.screen.notify(
                f"Taken back, unsent. Its channel is gone; here is its text:\n{text}",
                severity="warning",
                markup=False,
                timeout=30,
            )
            return
        draft = draft.taken_back(taken)
        draft = replace(draft, prefix="", body=taken.text, used=taken.canned, link=taken.link)
        mark = await store.reply_mark(held.conversation_id)
        # Unsent again: a draft again, kept at once (a kill -9 now must not lose it).
        kind = DraftKind.REDIRECT if held.redirect else DraftKind.REPLY
        kind = DraftKind.TOPIC if held.topic is not None else kind
        keeper = DraftKeeper(
            store,
            held.conversation_id,
            kind,
            parent_remote_id=held.parent.remote_id,
            label=f"{kind} to {held.whom()}",
        )
        keeper.changed(held.topic.to_draft() if held.topic is not None else taken.text)
        if held.topic is not None:
            self.screen.app.push_screen(
                self._new_topic_screen(held.conversation_id, held.parent, mark, held.topic, keeper)
            )
            self.screen.notify(
                f"Taken back: the forum topic and the reply to {held.whom()} were not sent.",
                markup=False,
                timeout=3,
            )
            return
        self.open_compose(
            draft,
            held.conversation_id,
            held.parent,
            mark,
            redirect=held.redirect,
            approve_parent=held.approve_parent,
            keeper=keeper,
        )
        self.screen.notify(f"Taken back: the reply to {held.whom()} was not sent.", markup=False, timeout=3)

    async def decide_outbox(self) -> None:
        """Settle the oldest reply of this conversation that failed or may not have been sent."""
        self.screen.conversations.held = True
        conversation_id = self.screen.conversations.selected_id
        store = self.screen.app.store
        conversation = None if conversation_id is None else await store.conversation(conversation_id)
        stuck = (
            []
            if conversation is None
            else [i for i in conversation.outbox if i.state in (OutboxState.FAILED, OutboxState.UNKNOWN)]
        )
        if conversation is None or not stuck:
            keys = describe_keys(keys_of(self.screen.app.settings.ui.keys, "inbox.outbox"))
            self.screen.notify(
                f"No reply here waits for a decision ({keys}: every reply waiting to go out).",
                markup=False,
                timeout=3,
            )
            return
        item = stuck[0]
        answer = await self.screen.app.push_screen_wait(OutboxDecisionScreen(item, more=len(stuck) - 1))
        if answer is None:
            return
        if answer == EDIT:
            await self._edit_and_resend(conversation, item)
            return
        decision = ReplyDecision(answer)  # the box's other answers are decisions
        if await store.decide_reply(item.id, decision, actor=self.screen._me()) is None:
            self.screen.notify("That reply was settled meanwhile: see the thread.", markup=False)
            return
        self.screen.notify(
            {
                ReplyDecision.RESEND: "Queued again; it shows as sent once the platform has it.",
                ReplyDecision.MARK_SENT: "Marked sent.",
                ReplyDecision.DISCARD: "Discarded; it stays in the history.",
            }[decision],
            markup=False,
            timeout=3,
        )

    async def _edit_and_resend(self, conversation: Conversation, item: OutboxItem) -> None:
        store = self.screen.app.store
        parent = await store.message(item.channel, item.parent_remote_id)
        draft = None if parent is None else self.screen.app.reply_draft(parent, conversation.row.language)
        if parent is None or draft is None:
            self.screen.notify(
                "The message it answers, or its channel, is gone: it can only be discarded.",
                severity="error",
                markup=False,
            )
            return
        mark = await store.reply_mark(conversation.row.id)
        draft = replace(draft.taken_back(item), prefix="", body=item.text, used=item.canned, link=item.link)

        async def save(composed: ComposedReply) -> None:
            # The new reply is written before the old one is dropped: nothing is lost in between.
            # It is held like any reply (`u` takes it back into its box meanwhile).
            delay = self.screen.app.settings.ui.send_delay
            language = self.screen.app.reply_language(parent)
            headers = composed.headers
            queued = await store.queue_reply(
                conversation.row.id,
                parent,
                composed.text,
                visibility=composed.visibility or item.visibility,
                language=language,
                canned=composed.canned,
                link=composed.link,
                actor=self.screen._me(),
                hold=delay,
                wider=composed.wider or (item.wider and composed.visibility is None),
                to=headers.to if headers else item.to,
                cc=headers.cc if headers else item.cc,
                subject=headers.subject if headers else item.subject,
            )
            await store.decide_reply(item.id, ReplyDecision.DISCARD, actor=self.screen._me())
            if delay > 0:
                held = HeldReply(queued.id, conversation.row.id, parent, language, monotonic() + delay)
                self.screen.undo.remember(UndoStep("reply", reply=held))
                self.screen.undo.count_down()
            self.screen.notify(
                "The edited reply is queued; the old one is discarded.", markup=False, timeout=3
            )

        self.screen.app.push_screen(
            ComposeScreen(draft, save=save, collisions=self._collisions(conversation.row.id, mark))
        )

    async def reply(self) -> None:
        """`r`: a reply to the message picked with `[` / `]`, else the newest one from outside."""
        if self.screen._writes_refused():
            return
        target = await self._reply_target()
        if target is None:
            return
        self.screen.say_cursor_only("inbox.reply", "r")
        conversation, parent = target
        if self._read_only(parent.channel):
            self._explain_read_only(parent)
            return
        if (refusal := reply_refusal(self.screen.app.settings, parent, datetime.now(UTC))) is not None:
            self.screen.notify(sanitize(refusal), severity="warning", markup=False, timeout=12)
            return
        draft = self.screen.app.reply_draft(parent, conversation.row.language)
        if draft is None:
            self.screen.notify(
                f"Channel {parent.channel!r} is not configured: cannot reply.", severity="error", markup=False
            )
            return
        mark = await self.screen.app.store.reply_mark(conversation.row.id)
        keeper, kept = await open_draft(
            self.screen,
            conversation.row.id,
            DraftKind.REPLY,
            parent_remote_id=parent.remote_id,
            blank=draft.prefix,
            label=f"reply to {parent.author.label}",
        )
        if (drafted := self._drafted_parent(conversation, parent, kept, keeper)) is not None:
            parent = drafted
            draft = self.screen.app.reply_draft(parent, conversation.row.language)
            if draft is None:
                return
        if kept is not None:
            draft = replace(draft, restored=kept.text)
        if not parent.held:
            self.open_compose(draft, conversation.row.id, parent, mark, keeper=keeper)
            return
        engine = self.screen.app.engine
        if engine is None or not isinstance(engine.channels.get(parent.channel), ModeratedChannel):
            self.screen.notify(
                sanitize(
                    f"This message is held for moderation and ecoinbox cannot approve it on "
                    f"{parent.channel!r}: approve it there first, then reply."
                ),
                severity="warning",
                markup=False,
                timeout=8,
            )
            return

        def approve_then_compose(approve: bool | None) -> None:
            if approve:
                self.open_compose(
                    draft, conversation.row.id, parent, mark, approve_parent=True, keeper=keeper
                )
            else:
                self.screen.notify(
                    "Not replying: a reply to a held comment stays invisible until the comment "
                    "is approved (r, then y, approves it and replies).",
                    markup=False,
                    timeout=6,
                )

        # A reply under a held comment is published but nobody sees it until the comment is.
        self.screen.app.push_screen(
            ConfirmScreen(
                "This comment is held for moderation. Approve it and reply?",
                yes="Approve and reply",
                no="Cancel",
                detail=Content.styled(
                    "Your reply is seen once the comment is approved, as in wp-admin.", "dim"
                ),
            ),
            approve_then_compose,
        )

    def _read_only(self, channel: str) -> bool:
        """Whether the channel cannot reply: a feed by its kind (before its first poll too), any
        other by what it said of itself."""
        if is_feed(self.screen.app.settings, channel):
            return True
        engine = self.screen.app.engine
        caps = engine.capabilities.get(channel) if engine is not None else None
        return caps is not None and not caps.reply

    def _explain_read_only(self, parent: Message) -> None:
        """A read-only channel (a feed): say so, and hand over the page where a reply goes."""
        url = safe_url(parent.url or "")
        where = f" Reply on the page: {url} (copied to the clipboard)." if url else ""
        self.screen.notify(
            sanitize(
                f"Channel {parent.channel!r} is read-only (a feed): ecoinbox cannot reply there.{where}"
            ),
            severity="warning",
            markup=False,
            timeout=10,
        )
        if url:
            self.screen.app.copy_to_clipboard(url)

    def open_compose(
        self,
        draft: ReplyDraft,
        conversation_id: int,
        parent: Message,
        mark: ReplyMark,
        *,
        redirect: bool = False,
        approve_parent: bool = False,
        keeper: DraftKeeper | None = None,
    ) -> None:
        """Compose a reply; before it is queued the manager is warned of replies added since `mark`.
        `keeper` keeps what is typed as a draft, dropped when the reply is queued."""
        save = self._reply_saver(
            conversation_id, parent, redirect=redirect, approve_parent=approve_parent, keeper=keeper
        )
        collisions = self._collisions(conversation_id, mark)
        box = ComposeScreen(draft, save=save, collisions=collisions, draft_keeper=keeper)

        def closed(_: ComposedReply | None) -> None:
            if box.kept_as_draft and keeper is not None:
                self.screen.say(
                    f"Draft kept ({keeper.label}): the same key on this conversation brings it back."
                )

        self.screen.app.push_screen(box, closed)

    def _collisions(
        self, conversation_id: int, mark: ReplyMark
    ) -> Callable[[], Awaitable[list[ConcurrentReply]]]:
        store = self.screen.app.store
        return lambda: store.replies_since(conversation_id, mark)

    async def _reply_target(self) -> tuple[Conversation, Message] | None:
        self.screen.conversations.held = True  # acting on it: the cursor follows it from now on
        conversation_id = self.screen.conversations.selected_id
        if conversation_id is None:
            return None
        conversation = await self.screen.app.store.conversation(conversation_id)
        if conversation is None or not conversation.messages:
            return None
        return conversation, self.chosen_in(conversation) or reply_target(conversation)

    def _drafted_parent(
        self, conversation: Conversation, parent: Message, kept: Draft | None, keeper: DraftKeeper
    ) -> Message | None:
        """The message a kept draft was begun for, when it is not `parent`: the box opens on it
        (and says so), whatever is picked now. None when the draft answers `parent`, or is gone."""
        drafted = None if kept is None else _message_in(conversation, kept.parent_remote_id)
        if drafted is None or drafted.remote_id == parent.remote_id:
            return None
        keeper.parent_remote_id = drafted.remote_id
        keeper.label = sanitize(f"{keeper.kind} to {drafted.author.label}", single_line=True, max_chars=60)
        self.screen.notify(
            sanitize(f"The draft answers {drafted.author.label}'s message, as when you began it."),
            markup=False,
            timeout=5,
        )
        return drafted

    def chosen_in(self, conversation: Conversation) -> Message | None:
        """The message picked with `[` / `]` in the thread shown, if it is this conversation's."""
        shown = self.screen.thread.conversation
        if shown is None or shown.row.id != conversation.row.id:
            return None
        return _message_in(conversation, self.screen.thread.chosen)

    async def choose_message(self, step: int) -> None:
        """`[` / `]`: pick an older or newer message of the thread for `r` (and `f`) to answer.
        Keys typed after it wait for the pick: a thread still on its way is read here first."""
        selected = self.screen.conversations.selected_id
        if selected is None:
            return
        shown = self.screen.thread.conversation
        if self.screen.follow.cancel_pending() or shown is None or shown.row.id != selected:
            self.screen.workers.cancel_group(self.screen, "thread")  # read here instead, before the next key
            conversation = await self.screen.app.store.conversation(selected)
            if conversation is None or self.screen.conversations.selected_id != selected:
                return
            self.screen.thread.show(conversation, highlight=self.screen._matched_words)
        shown = self.screen.thread.conversation
        if shown is None or shown.row.id != selected:
            return
        chosen = self.screen.thread.choose(step, reply_target(shown) if shown.messages else None)
        if chosen is not None:
            self.screen.conversations.held = True  # acting on it: the cursor follows it from now on

    def _reply_saver(
        self,
        conversation_id: int,
        parent: Message,
        *,
        redirect: bool = False,
        approve_parent: bool = False,
        keeper: DraftKeeper | None = None,
    ) -> Callable[[ComposedReply], Awaitable[None]]:
        """What ctrl+s in the compose box runs: the box stays open, text and all, if it fails."""

        async def queue(reply: ComposedReply) -> None:
            store = self.screen.app.store
            delay = self.screen.app.settings.ui.send_delay
            language = self.screen.app.reply_language(parent)
            async with keeper.queueing() if keeper is not None else contextlib.nullcontext():
                headers = reply.headers
                item = await store.queue_reply(
                    conversation_id,
                    parent,
                    reply.text,
                    visibility=reply.visibility or parent.visibility,
                    language=language,
                    canned=reply.canned,
                    link=reply.link,
                    approve_parent=approve_parent,
                    actor=self.screen._me(),
                    hold=delay,
                    draft=None if keeper is None else keeper.kind,
                    to=headers.to if headers else (),
                    cc=headers.cc if headers else (),
                    subject=headers.subject if headers else None,
                    wider=reply.wider,
                )
            held = None
            if delay > 0:  # `u` can take it back until the sender may take it
                held = HeldReply(
                    item.id,
                    conversation_id,
                    parent,
                    language,
                    monotonic() + delay,
                    redirect=redirect,
                    approve_parent=approve_parent,
                )
            if redirect:
                await self._mark_redirected(conversation_id, held)
            elif held is not None:
                self.screen.undo.remember(UndoStep("reply", reply=held))
                self.screen.undo.count_down()
            else:
                whom = person(parent.author.label)
                self.screen.notify(
                    f"Reply to {whom} queued; it shows as sent once the platform has it.",
                    markup=False,
                    timeout=3,
                )

        return queue

    async def _mark_redirected(self, conversation_id: int, held: HeldReply | None = None) -> None:
        """After the reply is safely queued: a failure here must not make the box keep a sent reply."""
        try:
            await self._mark_done_redirected(conversation_id, held)
        except StoreError as exc:  # a notice in the store's words; the queued reply stays queued
            notify_store_failure(self.screen, exc, self.screen.app.store.read_only_reason)

    async def _mark_done_redirected(self, conversation_id: int, held: HeldReply | None) -> None:
        store = self.screen.app.store
        whose = (await self.screen._target([conversation_id])).whose()
        changes: list[StateChange] = []
        try:
            changes = await store.set_state(
                [conversation_id], State.DONE, actor=self.screen._me(), reason="redirected"
            )
        finally:  # a held reply can be taken back even if its "done" could not be written
            if changes or held is not None:
                self.screen.undo.remember(UndoStep("redirected", tuple(changes), reply=held))
            if held is not None:
                self.screen.undo.count_down()
        self.screen.notify(
            sentence(f"redirect queued; {whose} is done (redirected). u undoes."), markup=False
        )

    async def redirect(self) -> None:
        """`f`: send the person to the forum, with a canned reply or a new topic of their own."""
        app = self.screen.app
        if self.screen._writes_refused():
            return
        if app.settings.forum is None:
            self.screen.notify(
                "No forum is configured: add a discourse channel and a [forum] section "
                "(see config.example.toml).",
                severity="warning",
                markup=False,
            )
            return
        target = await self._reply_target()
        if target is None:
            return
        self.screen.say_cursor_only("inbox.redirect", "f")
        conversation, parent = target
        if self._read_only(parent.channel):  # a redirect is a reply too
            self._explain_read_only(parent)
            return
        mark = await app.store.reply_mark(conversation.row.id)
        language = conversation.row.language
        draft = app.reply_draft(parent, language)
        keeper, kept = await open_draft(
            self.screen,
            conversation.row.id,
            DraftKind.REDIRECT,
            parent_remote_id=parent.remote_id,
            blank="" if draft is None else draft.prefix,
            label=f"redirect of {parent.author.label}",
        )
        if (drafted := self._drafted_parent(conversation, parent, kept, keeper)) is not None:
            parent = drafted
            draft = app.reply_draft(parent, language)
        if kept is not None and draft is not None:  # the canned reply was chosen then: back to its text
            draft = replace(draft, restored=kept.text)
            self.open_compose(draft, conversation.row.id, parent, mark, redirect=True, keeper=keeper)
            return
        suggestions = await app.redirect_suggestions(conversation)
        can_topic = app.forum_channel() is not None
        values = app.canned_values(parent)
        whom = person(parent.author.label)
        choice = await app.push_screen_wait(
            RedirectScreen(suggestions, can_open_topic=can_topic, values=values, whom=whom)
        )
        if choice is None:
            return
        if isinstance(choice, str):  # NEW_TOPIC, the box's only answer in words
            await self._redirect_to_new_topic(conversation, parent, mark)
            return
        draft = app.reply_draft(parent, language)
        if draft is None:
            self.screen.notify(
                f"Channel {parent.channel!r} is not configured: cannot reply.", severity="error", markup=False
            )
            return
        _, rendered, link = fill_canned(choice.reply, language, draft.values)
        values = dict(draft.values, **({"link": link} if link else {}))
        for variable in rendered.missing:
            answer = await app.push_screen_wait(ValuePrompt(variable, choice.reply.name))
            if answer is None:
                return
            values[variable] = answer
        body = fill_canned(choice.reply, language, values)[1].text
        draft = replace(draft, body=body, used=(choice.reply.name,), link=link)
        self.open_compose(draft, conversation.row.id, parent, mark, redirect=True, keeper=keeper)

    async def _redirect_to_new_topic(
        self, conversation: Conversation, parent: Message, mark: ReplyMark
    ) -> None:
        app = self.screen.app
        language = conversation.row.language
        draft = app.reply_draft(parent, language)
        if draft is None:
            self.screen.notify(
                f"Channel {parent.channel!r} is not configured: cannot reply.", severity="error", markup=False
            )
            return
        values = dict(
            draft.values, topic_url="{topic_url}", topic_title="{topic_title}"
        )  # filled once it exists
        template = app.topic_reply_template(language)
        reply_text = draft.prefix + render(template, values).text
        keeper, kept = await open_draft(
            self.screen,
            conversation.row.id,
            DraftKind.TOPIC,
            parent_remote_id=parent.remote_id,
            label=f"forum topic for {parent.author.label}",
        )
        title, body = topic_title(parent.text, parent.author.label), topic_body(parent, parent.channel)
        topic = TopicDraft(title, body, reply_text)
        restored = None if kept is None else TopicDraft.from_draft(kept.text)
        await app.push_screen_wait(
            self._new_topic_screen(conversation.row.id, parent, mark, topic, keeper, restored=restored)
        )

    def _new_topic_screen(
        self,
        conversation_id: int,
        parent: Message,
        mark: ReplyMark,
        topic: TopicDraft,
        keeper: DraftKeeper,
        *,
        restored: TopicDraft | None = None,
    ) -> NewTopicScreen:
        """The new forum topic box, filled with `topic` (or the draft `restored`); ctrl+s queues the
        topic and its reply, held `[ui] send_delay` seconds (`u` takes both back meanwhile).
        `keeper` keeps the fields as they are typed."""
        app = self.screen.app
        forum = app.settings.forum
        assert forum is not None  # a topic is offered only with a [forum] section

        async def queue(topic: TopicDraft) -> None:
            store = app.store
            before = await store.conversation_row(conversation_id)
            delay = app.settings.ui.send_delay
            language = app.reply_language(parent)
            async with keeper.queueing():  # the topic's draft goes in the same commit
                item, _ = await store.queue_redirect_topic(
                    conversation_id,
                    forum_channel=forum.channel,
                    title=topic.title,
                    body=topic.body,
                    category=forum.category,
                    parent=parent,
                    reply_text=topic.reply,
                    visibility=parent.visibility,
                    language=language,
                    actor=self.screen._me(),
                    hold=delay,
                )
            if delay > 0:
                held = HeldReply(
                    item.id,
                    conversation_id,
                    parent,
                    language,
                    monotonic() + delay,
                    redirect=True,
                    topic=topic,
                )
                changes: tuple[StateChange, ...] = ()
                if before is not None and (before.state, before.reason) != (State.DONE, "redirected"):
                    changes = (StateChange(conversation_id, before.state, State.DONE),)
                self.screen.undo.remember(UndoStep("redirected to a new forum topic", changes, reply=held))
                self.screen.undo.count_down()
            whom = person(parent.author.label)
            self.screen.notify(
                f"Forum topic queued; the reply to {whom} with its address follows once it exists. "
                f"{sentence(Target(name=whom).whose())} is done (redirected).",
                markup=False,
            )

        return NewTopicScreen(
            title=topic.title,
            body=topic.body,
            reply=topic.reply,
            forum_label=forum.url,
            save=queue,
            collisions=self._collisions(conversation_id, mark),
            draft_keeper=keeper,
            restored=restored,
        )


def _message_in(conversation: Conversation, remote_id: str | None) -> Message | None:
    """The message `remote_id` of the conversation, if it is there and can be answered."""
    return next((m.message for m in answerable(conversation) if m.message.remote_id == remote_id), None)
