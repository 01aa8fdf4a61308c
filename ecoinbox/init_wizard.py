"""`ecoinbox init`: the first run, in plain prompts that fit 80x24 over SSH (no mouse, no Textual).

It asks for the brand (name, handles, keywords), then adds channels one at a time: the kind, the
address, and that channel's own auth flow (`ecoinbox.auth`), the token kept where the manager
chose once for all. Then it writes a commented config at the platform's config path (never over
one that exists without asking; the old one is kept as .bak), runs `ecoinbox check` on it and
says what to do next. Nothing is written until the end: ctrl+c leaves no half config.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ecoinbox.auth import Plan
from ecoinbox.channels import registry
from ecoinbox.channels.registry import unit
from ecoinbox.channels.settings import ChannelSettings
from ecoinbox.channels.unit import Question
from ecoinbox.config import ConfigError, default_config_path, parse_config

__all__ = ["ChannelAnswers", "Question", "Wizard", "render_config", "run_init"]


@dataclass(slots=True)
class ChannelAnswers:
    """A channel as the manager described it."""

    kind: str
    name: str
    values: dict[str, str | list[str]] = field(default_factory=dict)
    token_cmd: bool = False
    """The token went to `pass` (shown once): read it back with token_cmd."""


@dataclass(slots=True)
class Brand:
    name: str = ""
    handles: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


# ---- the file -------------------------------------------------------------------------------------


def _toml(value: str | list[str]) -> str:
    # JSON strings are TOML basic strings (ensure_ascii keeps every control character escaped).
    return json.dumps(value)


def render_config(brand: Brand, channels: list[ChannelAnswers]) -> str:
    """The config `init` writes: the answers, each with a comment saying what it is."""
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        f"# ecoinbox configuration, written by `ecoinbox init` on {today}.",
        "# Every setting, with its default and what it does: `ecoinbox config example`.",
        "# `ecoinbox check` validates this file; `ecoinbox auth NAME` connects a channel again.",
        "# Tokens are not in this file: they are in the OS keyring, the credentials file or `pass`.",
        "",
        "[brand]",
        "# Shown in the title bar and used in canned replies.",
        f"name = {_toml(brand.name)}",
        "# The brand's own accounts: their posts are ours, not mentions to answer.",
        f"handles = {_toml(brand.handles)}",
        '# Words that mean "about us" when they appear in a post.',
        f"keywords = {_toml(brand.keywords)}",
    ]
    for channel in channels:
        lines += ["", f"# {unit(channel.kind).description}", "[[channels]]",
                  f"kind = {_toml(channel.kind)}",
                  f"# Used in `ecoinbox auth {channel.name}` and as the channel's id in the store.",
                  f"name = {_toml(channel.name)}"]  # fmt: skip
        for key, value in channel.values.items():
            lines.append(f"{key} = {_toml(value)}")
        if brand.keywords and channel.kind in ("mastodon", "bluesky", "discourse"):
            lines.append("# Keyword searches that bring posts about the brand in, beyond mentions.")
            lines.append(f"search = {_toml(brand.keywords)}")
        if channel.token_cmd:
            lines.append("# The token is kept by pass: `pass insert ecoinbox/NAME` once, then this reads it.")
            lines.append(f"token_cmd = {_toml(['pass', 'show', f'ecoinbox/{channel.name}'])}")
    forum = next((c for c in channels if c.kind == "discourse"), None)
    if forum is not None:
        lines += ["", "# Where `f` (redirect to the forum) brings people.", "[forum]",
                  f"channel = {_toml(forum.name)}"]  # fmt: skip
    return "\n".join(lines) + "\n"


# ---- the conversation -------------------------------------------------------------------------------


class Wizard:
    """The questions, in order; `ask` and `say` are the terminal (tests give their own)."""

    def __init__(self, path: Path, *, ask: Callable[[str], str] = input,
                 say: Callable[[str], None] = print) -> None:  # fmt: skip
        self.path = path
        self.ask_line = ask
        self.say = say
        self.brand = Brand()
        self.channels: list[ChannelAnswers] = []
        self.plan: Plan | None = None  # where tokens go: asked once, for every channel

    def ask(self, question: str, default: str | None = None) -> str:
        shown = f"{question} [{default}]: " if default else f"{question}: "
        answer = "".join(c for c in self.ask_line(shown) if c.isprintable()).strip()
        return answer or (default or "")

    def ask_list(self, question: str) -> list[str]:
        return [word.strip() for word in self.ask(question).split(",") if word.strip()]

    def confirm(self, question: str, *, default: bool) -> bool:
        answer = self.ask(f"{question} [{'Y/n' if default else 'y/N'}]").lower()
        return default if not answer else answer.startswith("y")

    def run(self) -> int:
        self.say("ecoinbox init: set up the inbox. Ctrl+C stops; nothing is written until the end.")
        self.say(f"The config will be written to {self.path}")
        if self.path.exists() and not self.confirm(
            f"{self.path} exists. Replace it (the old one is kept as {self.path.name}.bak)?", default=False
        ):
            self.say("Left as it is. Edit it, or run `ecoinbox init --config OTHER.toml`.")
            return 1
        self.ask_brand()
        while self.add_channel():
            pass
        self.write()
        return self.check_and_tell()

    def ask_brand(self) -> None:
        self.say("")
        self.say("1/3 The brand")
        while not self.brand.name:
            self.brand.name = self.ask("Brand name (shown in the title bar and canned replies)")
        self.brand.handles = self.ask_list(
            "Its own accounts, comma-separated (e.g. acme@mastodon.social, acme)"
        )
        self.brand.keywords = self.ask_list(
            "Words that mean the brand, comma-separated (e.g. acme, acme widgets)"
        )

    def add_channel(self) -> bool:
        """Ask for one channel and connect it; False when the manager is done."""
        self.say("")
        self.say(f"2/3 Channels ({len(self.channels)} so far). Kinds: {', '.join(sorted(registry.KINDS))}")
        kind = self.ask("Kind of the next channel (Enter when done)").lower()
        if not kind:
            return False
        if kind not in registry.KINDS:
            self.say(f"{kind!r} is not a kind ecoinbox knows: one of {', '.join(sorted(registry.KINDS))}.")
            return True
        self.say(unit(kind).description)
        taken = {c.name for c in self.channels}
        default = unit(kind).default_name
        default = default if default not in taken else f"{default}{len(taken) + 1}"
        answers = ChannelAnswers(
            kind, self.ask("Name (lowercase, used in `ecoinbox auth NAME`)", default).lower()
        )
        for question in unit(kind).questions:
            if question.is_list:
                value: str | list[str] = self.ask_list(question.text)
            else:
                value = self.ask(question.text, question.default)
                while not value and not question.optional:
                    value = self.ask(question.text + " (required)", question.default)
            if value:
                answers.values[question.key] = value
        settings = self.validate(answers)
        if settings is None:
            return True
        self.connect(answers, settings)
        self.channels.append(answers)
        return True

    def validate(self, answers: ChannelAnswers) -> ChannelSettings | None:
        try:
            settings = parse_config(render_config(self.brand, [*self.channels, answers]), self.path)
        except ConfigError as exc:
            self.say(f"Not added, the config would be wrong:\n  {str(exc).replace(chr(10), chr(10) + '  ')}")
            self.say("Add it again with the answers fixed.")
            return None
        return settings.channel(answers.name)

    def connect(self, answers: ChannelAnswers, channel: ChannelSettings) -> None:
        """The channel's own auth flow; a failure leaves the channel in, to connect later."""
        from ecoinbox.auth import (
            AuthError,
            AuthOptions,
            choose_destination,
            keep_token,
            obtain_token,
            what_it_asks_for,
        )
        from ecoinbox.channels.base import ChannelError
        from ecoinbox.credentials import Destination
        from ecoinbox.secrets import SecretError

        if not channel.needs_token:
            self.say(f"{answers.name} reads public pages: nothing to sign in to.")
            return
        self.say("")
        self.say(f"Connecting {answers.name}. {what_it_asks_for(channel)}")
        try:
            if self.plan is None:
                self.plan = choose_destination(channel.name, AuthOptions(), say=self.say, ask=self.ask_line)
            token = obtain_token(channel)
            # No "try ecoinbox check" here: init runs it at the end.
            keep_token(channel, token, self.plan, next_step=None)
        except (AuthError, SecretError, ChannelError) as exc:
            self.say(f"{answers.name} is not connected: {exc}")
            self.say(f"It stays in the config: connect it later with `ecoinbox auth {answers.name}`.")
            return
        if self.plan.destination is Destination.PRINT:
            answers.token_cmd = True

    def write(self) -> None:
        self.say("")
        self.say("3/3 The config")
        text = render_config(self.brand, self.channels)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            backup = self.path.with_name(self.path.name + ".bak")
            self.path.replace(backup)
            self.say(f"The old config is kept as {backup}")
        temporary = self.path.with_name(f".{self.path.name}.new")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(self.path)
        self.say(f"Wrote {self.path} ({len(self.channels)} channel(s)). Every other setting: "
                 f"`ecoinbox config example`.")  # fmt: skip

    def check_and_tell(self) -> int:
        self.say("Checking it (ecoinbox check):")
        argv = [sys.executable, "-m", "ecoinbox.cli", "--config", str(self.path), "check"]
        sys.stdout.flush()
        status = subprocess.run(argv, check=False).returncode
        own = "" if self.path == default_config_path() else f" --config {self.path}"
        self.say("")
        if status == 0:
            self.say("All set. Next:")
        else:
            self.say("Something above needs fixing (`ecoinbox auth NAME` connects a channel again). Then:")
        self.say(f"  ecoinbox{own}              open the inbox (? lists the keys)")
        self.say(f"  ecoinbox{own} poll         poll without a screen, e.g. in tmux or a service")
        self.say(f"  ecoinbox{own} auth NAME    connect a channel again")
        return 0 if status == 0 else 1


def run_init(explicit: Path | None) -> int:
    """`ecoinbox init [--config PATH]`."""
    path = explicit.expanduser() if explicit is not None else default_config_path()
    try:
        return Wizard(path).run()
    except EOFError:
        print("\nStopped: no more answers on standard input. Nothing was written.", file=sys.stderr)
        return 1
