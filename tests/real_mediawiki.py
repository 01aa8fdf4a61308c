"""A real MediaWiki for the tests: Debian's `mediawiki` package on SQLite, on loopback.

Nothing here touches the system's wiki: `maintenance/install.php` makes a fresh SQLite database
and a LocalSettings.php in a temporary directory, which every PHP process is pointed at through
MW_CONFIG_FILE (MediaWiki's own switch); the code stays in /usr/share/mediawiki, served by PHP's
built-in server on 127.0.0.1. The brand's account is a bot with a bot password, made by
`maintenance/createBotPassword.php` as Special:BotPasswords would. People's comments are edits
made by `maintenance/edit.php` as that person, with the signature they would have typed.

Debian's MediaWiki 1.39 bundles neither DiscussionTools nor the OAuth extension: against it the
channel answers with section edits and signs in with the bot password.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MEDIAWIKI = Path("/usr/share/mediawiki")
INSTALL_HINT = "apt-get install -y mediawiki php-cli php-sqlite3 php-mbstring php-xml php-intl"
STARTUP = 30.0  # seconds for PHP to answer
BOT_ALPHABET = "abcdefghijklmnopqrstuv0123456789"  # MediaWiki takes a bot password only in base 32


def why_no_mediawiki() -> str | None:
    """None when a real MediaWiki can run here, else one line saying how to install it."""
    missing = [
        name
        for name, present in (
            ("mediawiki", (MEDIAWIKI / "maintenance" / "install.php").is_file()),
            ("php-cli", shutil.which("php") is not None),
        )
        if not present
    ]
    if not missing:
        modules = _php_modules()
        missing += [package for package, module in (
            ("php-sqlite3", "pdo_sqlite"), ("php-mbstring", "mbstring"), ("php-xml", "xml"),
            ("php-intl", "intl")) if module not in modules]  # fmt: skip
    if missing:
        return f"{', '.join(missing)} not installed (Debian/Ubuntu: {INSTALL_HINT})"
    return None


@dataclass(frozen=True, slots=True)
class BotLogin:
    name: str  # "Acme@ecoinbox", as Special:BotPasswords shows it
    password: str


class RealMediaWiki:
    """One wiki with its SQLite database, started by `start()` and ended by `stop()`."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ecoinbox-mw-"))
        self.settings = self.dir / "LocalSettings.php"
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.version = ""
        self.bot: BotLogin | None = None
        self._web: subprocess.Popen[bytes] | None = None

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> RealMediaWiki:
        try:
            self._install()
            self._start_web()
            self.version = str(self.api(action="query", meta="siteinfo")["query"]["general"]["generator"])
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process = self._web
        if process is not None:
            # In a process group of its own: php -S forks workers that outlive a signal to the parent.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _install(self) -> None:
        password = self.dir / "admin.pass"
        password.write_text(secrets.token_urlsafe(18))
        self._maintenance(
            "install.php", "--dbtype", "sqlite", "--dbpath", str(self.dir / "db"), "--dbname", "wiki",
            "--server", self.base_url, "--scriptpath", "", "--confpath", str(self.dir),
            "--passfile", str(password), "--lang", "en", "--skins", "", "Acme Wiki", "Admin",
            installing=True,
        )  # fmt: skip
        with self.settings.open("a") as settings:
            settings.write(_SETTINGS.replace("@DIR@", str(self.dir)))
        self._maintenance("createAndPromote.php", "--bot", "Acme", secrets.token_urlsafe(18))
        bot_password = "".join(secrets.choice(BOT_ALPHABET) for _ in range(32))
        self._maintenance("createBotPassword.php", "--appid", "ecoinbox", "--grants",
                          "basic,highvolume,editpage", "Acme", bot_password)  # fmt: skip
        self.bot = BotLogin("Acme@ecoinbox", bot_password)

    def _start_web(self) -> None:
        log = open(self.dir / "php.log", "wb")  # noqa: SIM115 (closed with the process)
        self._web = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(MEDIAWIKI)],
            stdout=log, stderr=subprocess.STDOUT, cwd=MEDIAWIKI, env=self._env(),
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + STARTUP
        while True:
            try:
                with urllib.request.urlopen(
                    self.base_url + "/api.php?action=query&format=json", timeout=5
                ) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self._web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("php -S did not serve MediaWiki:\n" + self.log()[-2000:])
            time.sleep(0.05)

    def _env(self) -> dict[str, str]:
        return {**os.environ, "MW_CONFIG_FILE": str(self.settings), "PHP_CLI_SERVER_WORKERS": "4"}

    def _maintenance(
        self, script: str, *args: str, stdin: str | None = None, installing: bool = False
    ) -> str:
        env = self._env()
        if installing:
            env.pop("MW_CONFIG_FILE")
        done = subprocess.run(
            ["php", str(MEDIAWIKI / "maintenance" / script), *args], input=stdin, capture_output=True,
            text=True, timeout=120, cwd=MEDIAWIKI, env=env, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(
                f"{script} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        return done.stdout

    def forget_sessions(self) -> None:
        """Drop every session the wiki keeps (they live in its object cache), as expiry does."""
        with contextlib.closing(sqlite3.connect(self.dir / "db" / "wikicache.sqlite")) as cache, cache:
            cache.execute("DELETE FROM objectcache WHERE keyname LIKE '%MWSession%'")

    def log(self) -> str:
        path = self.dir / "php.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- reading and changing the wiki -----------------------------------------------------------

    def api(self, **params: str) -> Any:
        """An anonymous GET of api.php (reads only)."""
        query = "&".join(f"{key}={urllib.request.quote(value)}" for key, value in params.items())
        url = f"{self.base_url}/api.php?format=json&formatversion=2&{query}"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.loads(answer.read())

    def edit(self, title: str, text: str, *, user: str = "Admin", summary: str = "") -> None:
        """Save `text` as the page's new revision, edited by `user` (made if new)."""
        self._maintenance("edit.php", "--user", user, "--summary", summary or "edit", title, stdin=text)

    def wikitext(self, title: str) -> str:
        pages = self.api(action="query", prop="revisions", titles=title, rvprop="content", rvslots="main")
        page = pages["query"]["pages"][0]
        return str(page["revisions"][0]["slots"]["main"]["content"]) if "revisions" in page else ""

    def revision(self, title: str) -> int:
        pages = self.api(action="query", prop="revisions", titles=title, rvprop="ids")
        return int(pages["query"]["pages"][0]["revisions"][0]["revid"])

    def add_comment(self, title: str, user: str, text: str, *, indent: int = 0, section: str | None = None,
                    at: datetime | None = None) -> str:  # fmt: skip
        """`user`'s comment, signed as ~~~~ would sign it, at the end of `section` (a new section
        at the end of the page when it has none of that title); returns the new wikitext."""
        when = (at or datetime.now(UTC)).astimezone(UTC)
        signature = (
            f"[[User:{user}|{user}]] ([[User talk:{user}|talk]]) {when:%H:%M}, {when.day} {when:%B %Y} (UTC)"
        )
        line = f"{':' * indent}{text} {signature}"
        page = self.wikitext(title)
        lines = page.split("\n") if page else []
        if section is not None:
            heading = f"== {section} =="
            if heading in lines:
                at_line = lines.index(heading) + 1
                while at_line < len(lines) and not lines[at_line].startswith("=="):
                    at_line += 1
                while at_line > 0 and not lines[at_line - 1].strip():
                    at_line -= 1
                lines[at_line:at_line] = [line]
            else:
                lines += ["", heading, line]
        else:
            lines.append(line)
        new = "\n".join(lines).strip("\n") + "\n"
        self.edit(title, new, user=user)
        return new


_SETTINGS = """
$wgEnableBotPasswords = true;
$wgMainCacheType = CACHE_DB;
$wgSessionCacheType = CACHE_DB;
$wgCacheDirectory = "@DIR@/cache";
$wgUploadDirectory = "@DIR@/images";
$wgEnableEmail = false;
$wgEnableUploads = false;
$wgJobRunRate = 0;
$wgRCMaxAge = 90 * 86400;
$wgRateLimits['edit']['user'] = [ 1000, 60 ];
"""


def _php_modules() -> set[str]:
    try:
        done = subprocess.run(["php", "-m"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return set()
    return set(done.stdout.split())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
