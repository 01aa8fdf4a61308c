"""What the conversation list tells the screen it sits on: the cursor landed on a row, a row was
opened, the store failed to answer. Handlers keep the names of messages nested in the list
(`on_conversation_list_highlighted`...): the list exposes them as `ConversationList.Highlighted`..."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from ecoinbox.tui.widgets.conversation_list import ConversationList


class Highlighted(Message, namespace="conversation_list"):
    """The cursor landed on a row (also posted after every load and view switch).

    `conversation_id` is None when the view is empty; `index` is 0-based.
    """

    def __init__(
        self,
        conversation_list: ConversationList,
        conversation_id: int | None,
        index: int,
        total: int,
    ) -> None:
        super().__init__()
        self.conversation_list = conversation_list
        self.conversation_id = conversation_id
        self.index = index
        self.total = total

    @property
    def control(self) -> ConversationList:
        return self.conversation_list


class Selected(Message, namespace="conversation_list"):
    """The manager opened the highlighted conversation (enter)."""

    def __init__(self, conversation_list: ConversationList, conversation_id: int) -> None:
        super().__init__()
        self.conversation_list = conversation_list
        self.conversation_id = conversation_id

    @property
    def control(self) -> ConversationList:
        return self.conversation_list


class LoadFailed(Message, namespace="conversation_list"):
    """The store failed to answer (count or page); the list stays usable with what it has.

    Worker state changes do not bubble, so the list forwards its own failures as this
    message; repeats of one error within `ConversationList.FAILURE_REPEAT_SECONDS` are not posted again.
    """

    def __init__(self, conversation_list: ConversationList, error: BaseException) -> None:
        super().__init__()
        self.conversation_list = conversation_list
        self.error = error

    @property
    def control(self) -> ConversationList:
        return self.conversation_list
