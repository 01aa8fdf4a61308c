"""Every key binding the inbox has, by id, with its default keys: a plain table the config checks
`[ui.keys]` against without importing Textual, and the TUI reads its default keys from.

The TUI's `Binding`s carry the same ids and keys (tests/test_keymap.py checks that they agree):
a binding added there is added here too, or the test says so.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

DEFAULT_KEYS: Mapping[str, str] = {
    "account.cancel": "escape",
    "account.next": "down,ctrl+n",
    "account.previous": "up,ctrl+p",
    "app.help": "question_mark",
    "app.palette": "ctrl+p",
    "app.quit": "q",
    "app.quit_anywhere": "ctrl+q",
    "assign.cancel": "escape",
    "canned.close": "escape",
    "canned.next": "down,ctrl+n",
    "canned.previous": "up,ctrl+p",
    "compose.cancel": "escape",
    "compose.canned": "ctrl+t",
    "compose.editor": "ctrl+e",
    "compose.reply_all": "ctrl+r",
    "compose.send": "ctrl+s",
    "compose.visibility": "ctrl+o",
    "confirm.keep_draft": "d",
    "confirm.no": "n,escape",
    "confirm.yes": "y",
    "contact.close": "escape",
    "contact.link": "L",
    "contact.next": "j",
    "contact.note": "n",
    "contact.open": "enter",
    "contact.previous": "k",
    "contact.unlink": "U",
    "contact_note.cancel": "escape",
    "contact_note.save": "ctrl+s",
    "help.close": "escape,q,question_mark",
    "help.down": "j,down",
    "help.page_down": "pagedown,space",
    "help.page_up": "pageup",
    "help.up": "k,up",
    "inbox.assign": "a",
    "inbox.back": "escape",
    "inbox.contact": "c",
    "inbox.decide_outbox": "O",
    "inbox.done": "e",
    "inbox.hide": "H",
    "inbox.link_contact": "L",
    "inbox.mute": "M",
    "inbox.newer_message": "right_square_bracket",
    "inbox.next_view": "tab",
    "inbox.note": "n",
    "inbox.older_message": "left_square_bracket",
    "inbox.outbox": "w",
    "inbox.poll_now": "R",
    "inbox.previous_view": "shift+tab",
    "inbox.redirect": "f",
    "inbox.reopen": "o",
    "inbox.reply": "r",
    "inbox.search": "slash",
    "inbox.select": "x",
    "inbox.select_all": "X",
    "inbox.show_whole": "m",
    "inbox.snooze": "s",
    "inbox.spam": "exclamation_mark",
    "inbox.spam_reply": "Z",
    "inbox.tag": "t",
    "inbox.undo": "u",
    "list.bottom": "G,end",
    "list.down": "j,down",
    "list.open": "enter",
    "list.page_down": "pagedown,ctrl+d",
    "list.page_up": "pageup,ctrl+u",
    "list.top": "g,home",
    "list.up": "k,up",
    "note.cancel": "escape",
    "note.save": "ctrl+s",
    "outbox.discard": "d",
    "outbox.edit": "e",
    "outbox.later": "escape",
    "outbox.mark_sent": "m",
    "outbox.resend": "s",
    "outbox_view.back": "escape",
    "outbox_view.cancel": "D",
    "outbox_view.decide": "O",
    "outbox_view.down": "j",
    "outbox_view.edit": "E",
    "outbox_view.next_view": "tab",
    "outbox_view.open": "enter",
    "outbox_view.previous_view": "shift+tab",
    "outbox_view.send_now": "S",
    "outbox_view.up": "k",
    "quit_question.leave": "q",
    "redirect.cancel": "escape",
    "search.cancel": "escape",
    "search.earlier": "up",
    "search.later": "down",
    "snooze.cancel": "escape",
    "snooze.preset_1": "1",
    "snooze.preset_2": "2",
    "snooze.preset_3": "3",
    "snooze.preset_4": "4",
    "tag.cancel": "escape",
    "thread.bottom": "G,end",
    "thread.down": "j,down",
    "thread.top": "g,home",
    "thread.up": "k,up",
    "too_small.quit": "q",
    "topic.cancel": "escape",
    "topic.create": "ctrl+s",
    "value.cancel": "escape",
}
"""Binding id ("screen.action") -> its default keys, comma-separated, in Textual's key names."""

ACTIVE_TOGETHER: tuple[tuple[str, ...], ...] = (
    ("app", "inbox", "list"),
    ("app", "inbox", "thread"),
    ("app", "outbox_view"),
)
"""Binding scopes (an id's part before the dot) whose keys work at the same time: the inbox's own
keys with the list's or the thread's (whichever has the focus) and the app's. Every other scope
is a box or a screen of its own, where only its own keys act."""

_KEY_NAMES = {"!": "exclamation_mark", "?": "question_mark", "/": "slash", " ": "space", "esc": "escape"}


def keys_of(keymap: Mapping[str, str], binding_id: str) -> str:
    """The keys of `binding_id`: the user's from `[ui.keys]`, else the default."""
    return keymap.get(binding_id) or DEFAULT_KEYS[binding_id]


def _split(keys: str) -> list[str]:
    return [_KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(",") if key.strip()]


def _scopes(binding_id: str) -> list[tuple[str, ...]]:
    scope = binding_id.split(".", 1)[0]
    return [group for group in ACTIVE_TOGETHER if scope in group] or [(scope,)]


def keymap_problems(keymap: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with a `[ui.keys]` table, by the binding id to blame: an id no binding has
    (with the closest one), or a key given to a binding that another one active at the same
    time already has (by default or in `keymap`). Empty when all is well."""
    problems: dict[str, str] = {}
    for binding_id in keymap:
        if binding_id not in DEFAULT_KEYS:
            close = difflib.get_close_matches(binding_id, list(DEFAULT_KEYS), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems[binding_id] = (
                f"unknown binding id{hint}: `?` in the inbox lists every id beside its keys"
            )
    for binding_id, keys in keymap.items():
        if binding_id in problems:
            continue
        for key in _split(keys):
            others = [
                other
                for group in _scopes(binding_id)
                for other in DEFAULT_KEYS
                if other != binding_id
                and other.split(".", 1)[0] in group
                and key in _split(keys_of(keymap, other))
            ]
            if others:
                other = others[0]
                how = "is also given to" if other in keymap else "is already the key of"
                problems[binding_id] = (
                    f"the key {key!r} {how} {other!r}, which works at the same time: choose another "
                    f"key{'' if other in keymap else f', or give {other!r} another one too'}"
                )
                break
    return problems
