"""Platform text reaches widgets as plain Content: no markup, no actions, no forged links."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Static

from ecoinbox.tui.safe import link_content, safe_content, safe_text

MARKUP_LOOKALIKES = [
    "[ @click=app.quit]x[/]",
    "[@click=app.quit]x[/]",
    "[$accent @click=app.quit]x[/]",
    "[bold]loud[/bold]",
    "[$accent]themed[/]",
    "[$background]hidden[/]",
    '[LINK="https://evil.example"]bank.com[/]',
    "[link=https://evil.example]bank.com[/link]",
    "[/b] stray close",
    "[TODO] plan",
    "\\[escaped]",
]


@pytest.mark.parametrize("raw", MARKUP_LOOKALIKES)
def test_safe_content_shows_markup_literally(raw: str) -> None:
    content = safe_content(raw)
    assert content.plain == raw
    assert content.spans == []


@pytest.mark.parametrize("raw", MARKUP_LOOKALIKES)
def test_safe_content_style_covers_the_text_and_nothing_else(raw: str) -> None:
    content = safe_content(raw, style="bold")
    assert content.plain == raw
    assert [(span.start, span.end, span.style) for span in content.spans] == [(0, len(raw), "bold")]


@pytest.mark.parametrize("raw", MARKUP_LOOKALIKES)
def test_safe_text_shows_markup_literally(raw: str) -> None:
    text = safe_text(raw)
    assert text.plain == raw
    assert text.spans == []


def test_safe_content_sanitizes() -> None:
    raw = "Alice\x1b]0;PWNED\x07\u202e\n[b]Smith"
    assert safe_content(raw).plain == "Alice\n[b]Smith"
    assert safe_content(raw, single_line=True).plain == "Alice [b]Smith"
    assert safe_content(raw, max_chars=4).plain == "Ali…"
    assert safe_text(raw, single_line=True).plain == "Alice [b]Smith"


def test_safe_content_accepts_none() -> None:
    assert safe_content(None).plain == ""


def test_link_content_links_only_safe_urls() -> None:
    link = link_content("bank.com", "https://bank.example/login")
    assert link.plain == "bank.com"
    assert [span.style.link for span in link.spans] == ["https://bank.example/login"]  # type: ignore[union-attr]

    for url in (
        "javascript:alert(1)",
        "https://e.example/\x07\x1b[2J",
        "https://a.example@evil.example/",
    ):
        unsafe = link_content("click [b]me", url)
        assert unsafe.plain == "click [b]me"
        assert unsafe.spans == []


def test_link_content_label_is_sanitized_and_falls_back_to_the_url() -> None:
    assert link_content("a\x1b[2J\nb", "https://e.example").plain == "a b"
    assert link_content("", "https://e.example/x").plain == "https://e.example/x"


class ClickApp(App[None]):
    """Shows one Static and records every action a click could trigger."""

    def __init__(self, content: Content) -> None:
        super().__init__()
        self.content = content
        self.actions: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(self.content, id="name")

    def action_pwn(self) -> None:
        self.actions.append("pwn")

    async def action_quit(self) -> None:
        self.actions.append("quit")
        await super().action_quit()


async def _click_every_cell(app: ClickApp, width: int) -> None:
    async with app.run_test(size=(60, 5)) as pilot:
        for x in range(width):
            await pilot.click("#name", offset=(x, 0))
        await pilot.pause()
        assert app.is_running


@pytest.mark.parametrize("name", ["[ @click=app.quit]x[/]", "[$accent @click=app.pwn]x[/]"])
async def test_clicking_a_hostile_name_runs_no_action(name: str) -> None:
    app = ClickApp(safe_content(name))
    await _click_every_cell(app, len(name))
    assert app.actions == []


async def test_click_harness_does_see_actions() -> None:
    # Control: the same click on trusted markup runs the action, so the test above can fail.
    app = ClickApp(Content.from_markup("[@click=app.pwn]x[/]"))
    await _click_every_cell(app, 1)
    assert app.actions == ["pwn"]
