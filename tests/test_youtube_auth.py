"""`ecoinbox auth youtube --paste` through the CLI: Google's installed-app flow against the local
YouTube, the client secret and refresh token kept together in the keyring, and a poll with them."""

from __future__ import annotations

import json

import httpx
from configs import channel_toml, config_file
from pty_terminal import serving_in_a_thread

from ecoinbox.cli import main
from ecoinbox.demo.youtube.server import API, BRAND_CHANNEL, YouTubeServer
from ecoinbox.secrets import Secret

CLIENT_ID = "test-client.apps.googleusercontent.example"
CLIENT_SECRET = "client-secret-0f3c-never-printed"


def test_auth_paste_keeps_the_grant_in_the_keyring_and_the_channel_polls(
    tmp_path, capsys, monkeypatch, isolated_environment
) -> None:
    with serving_in_a_thread(
        YouTubeServer(seed=1, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    ) as server:
        youtube = channel_toml(
            kind="youtube", name="youtube", base_url=server.base_url + API, token_url=server.base_url + "/token",
            authorize_url=server.base_url + "/o/oauth2/v2/auth", channel_id=BRAND_CHANNEL, client_id=CLIENT_ID,
        )  # fmt: skip
        path = config_file(tmp_path, youtube)
        asked: list[str] = []
        monkeypatch.setattr(
            "ecoinbox.secrets.prompt_token", lambda prompt: asked.append(prompt) or Secret(CLIENT_SECRET)
        )

        def paste() -> str:  # the browser cannot reach 127.0.0.1 here: the manager copies its address
            printed = capsys.readouterr().out
            print(printed, end="")
            address = next(line.strip() for line in printed.splitlines() if "code_challenge=" in line)
            return httpx.get(address, follow_redirects=False).headers["location"] + "\n"

        monkeypatch.setattr(
            "sys.stdin", type("Typed", (), {"readline": staticmethod(paste), "isatty": lambda: False})
        )
        assert main(["--config", str(path), "auth", "youtube", "--paste"]) == 0
        out = capsys.readouterr().out
        assert asked and "Client secret" in asked[0]
        stored = isolated_environment.get_password("ecoinbox", "youtube")
        grant = json.loads(stored)
        assert grant["client_secret"] == CLIENT_SECRET and grant["refresh_token"]
        assert grant["refresh_token"] not in out and CLIENT_SECRET not in out
        assert main(["--config", str(path), "poll", "--once"]) == 0
        assert "youtube: " in (polled := capsys.readouterr().out) and " new" in polled
