"""`f`: bring the person to the forum — a ranked canned reply with a forum link, or a new topic."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ecoinbox.actions import MIN_TITLE
from ecoinbox.model import ConcurrentReply
from ecoinbox.replies import CannedReply, Suggestion, render
from ecoinbox.tui.drafts import DraftKeeper
from ecoinbox.tui.keys import after_typed
from ecoinbox.tui.safe import safe_content
from ecoinbox.tui.screens.compose import SavingScreen
from ecoinbox.tui.screens.confirm import ConfirmScreen

NEW_TOPIC = "new-topic"


@dataclass(frozen=True, slots=True)
class TopicDraft:
    """A new forum topic made from the person's question, and the reply that points to it."""

    title: str
    body: str
    reply: str

    def to_draft(self) -> str:
        """The three fields as one draft's text (JSON)."""
        return json.dumps({"title": self.title, "body": self.body, "reply": self.reply}, ensure_ascii=False)

    @classmethod
    def from_draft(cls, text: str) -> TopicDraft | None:
        """Back from `to_draft`; None if the text is not one (then the box starts afresh)."""
        try:
            fields = json.loads(text)
            return cls(str(fields["title"]), str(fields["body"]), str(fields["reply"]))
        except (ValueError, KeyError, TypeError):
            return None


class RedirectScreen(ModalScreen[Suggestion | str | None]):
    """The canned replies that bring this person to the forum, best first, then "new topic"."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="redirect.cancel")]

    def __init__(
        self,
        suggestions: Sequence[Suggestion],
        *,
        can_open_topic: bool,
        values: Mapping[str, str],
        whom: str = "",
    ) -> None:
        """`whom`: the person brought to the forum (sanitized), named in the title."""
        super().__init__()
        self.suggestions = list(suggestions)
        self.can_open_topic = can_open_topic
        self.values = values
        self.whom = whom

    def compose(self) -> ComposeResult:
        with Vertical(id="redirect-box"):
            yield Static(Content.styled(f"Bring {self.whom or 'them'} to the forum", "bold"), markup=False)
            options = [
                Option(_suggestion_label(s, self.values), id=f"s{i}") for i, s in enumerate(self.suggestions)
            ]
            if self.can_open_topic:
                options.append(Option(Content.styled("New forum topic from their question…", "bold $accent"),
                                      id=NEW_TOPIC))  # fmt: skip
            yield OptionList(*options, id="redirect-options")
            yield Static(Content.styled("enter: choose · esc: cancel", "dim"), markup=False)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if options.option_count:
            options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == NEW_TOPIC:
            self.dismiss(NEW_TOPIC)
        else:
            self.dismiss(self.suggestions[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


def _suggestion_label(suggestion: Suggestion, values: Mapping[str, str]) -> Content:
    reply: CannedReply = suggestion.reply
    link = render(reply.link, values).text if reply.link else ""
    return Content.assemble(
        (reply.title or reply.name, "bold"),
        "\n  ",
        (link, "$accent"),
        "\n  ",
        safe_content(
            suggestion.why, style="dim italic", single_line=True, max_chars=120
        ),  # quotes their words
    )


class NewTopicScreen(SavingScreen[TopicDraft]):
    """Edit the topic made from the question, and the reply that will carry its address; `save`
    queues both (the screen stays open, text and all, if that fails)."""

    BINDINGS = [
        Binding("ctrl+s", "create", "Create and reply", id="topic.create", priority=True),
        Binding("escape", "cancel", "Cancel", id="topic.cancel", priority=True),
    ]

    def __init__(
        self, *, title: str, body: str, reply: str, forum_label: str,
        save: Callable[[TopicDraft], Awaitable[None]] | None = None,
        collisions: Callable[[], Awaitable[list[ConcurrentReply]]] | None = None,
        draft_keeper: DraftKeeper | None = None, restored: TopicDraft | None = None,
    ) -> None:  # fmt: skip
        """`draft_keeper` keeps the three fields as they are typed; `restored` is the draft kept
        from before (the box starts with it)."""
        super().__init__(save, collisions)
        self.initial = restored or TopicDraft(title, body, reply)
        self.fresh = TopicDraft(title, body, reply)
        self.forum_label = forum_label
        self.draft_keeper = draft_keeper

    def compose(self) -> ComposeResult:
        with Vertical(id="topic-box"):
            yield Static(Content.assemble(("New topic on ", "bold"), safe_content(self.forum_label, style="bold")),
                         markup=False)  # fmt: skip
            yield Input(self.initial.title, id="topic-title", placeholder="Title (15 characters at least)")
            yield TextArea(self.initial.body, id="topic-body", soft_wrap=True)
            yield Static(Content.styled("Your reply to them ({topic_url} becomes the topic's address):", "dim"),
                         markup=False)  # fmt: skip
            yield TextArea(self.initial.reply, id="topic-reply", soft_wrap=True)
            yield Static(
                Content.styled("ctrl+s: create the topic, then reply · esc: cancel", "dim"), markup=False
            )

    def on_mount(self) -> None:
        self.query_one("#topic-title", Input).focus()

    @property
    def topic(self) -> TopicDraft:
        """The three fields as they are now."""
        return TopicDraft(
            self.query_one("#topic-title", Input).value, self.query_one("#topic-body", TextArea).text,
            self.query_one("#topic-reply", TextArea).text,
        )  # fmt: skip

    def on_input_changed(self) -> None:
        self._keep()

    def on_text_area_changed(self) -> None:
        self._keep()

    def _keep(self) -> None:
        if self.draft_keeper is not None:
            topic = self.topic
            self.draft_keeper.changed("" if topic == self.fresh else topic.to_draft())

    @after_typed
    def action_create(self) -> None:
        title = self.topic.title.strip()
        body = self.topic.body.strip()
        reply = self.topic.reply.strip()
        if len(title) < MIN_TITLE:
            self.notify(f"The title needs {MIN_TITLE} characters at least.", severity="error", markup=False)
            return
        if "{topic_url}" not in reply:
            self.notify("The reply must contain {topic_url}: it is how they find the topic.",
                        severity="error", markup=False)  # fmt: skip
            return
        self.save_and_close(TopicDraft(title, body, reply))

    @after_typed
    def action_cancel(self) -> None:
        if self.draft_keeper is None or self.topic == self.fresh:
            self._discard()
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self._discard()

        self.app.push_screen(ConfirmScreen("Discard this topic?", yes="Discard", no="Keep writing"), decided)

    def _discard(self) -> None:
        if self.draft_keeper is not None:
            self.app.run_worker(self.draft_keeper.discard(), group="draft", exit_on_error=False)
        self.dismiss(None)
