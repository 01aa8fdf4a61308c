"""What the channel learns of its Mastodon-API server: its domain, software and length limits."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from ecoinbox.channels.base import AuthError, ChannelError, PermanentError
from ecoinbox.channels.http import HttpClient
from ecoinbox.channels.json_values import as_dict, objects
from ecoinbox.channels.mastodon.statuses import (
    DEFAULT_URL_LENGTH,
    comparable,
    domain_of,
    positive,
    server_software,
    text_and_links,
    version_number,
)

DEFAULT_MAX_CHARACTERS = 500


@dataclass(frozen=True, slots=True)
class Instance:
    """The server as the channel knows it: the domain handles use, its software, its length limits."""

    domain: str
    version: str
    software: str
    max_characters: int
    url_length: int


async def fetch_instance(http: HttpClient, fallback_domain: str) -> Instance:
    """The server's domain, software and limits, from /api/v2/instance (/api/v1 on older servers);
    `fallback_domain` when it does not say its domain."""
    try:
        data = await http.get_json("/api/v2/instance")
        config = as_dict(as_dict(data).get("configuration"))
        domain = as_dict(data).get("domain")
    except PermanentError as exc:
        if isinstance(exc, AuthError):
            raise
        data = await http.get_json("/api/v1/instance")  # Akkoma, old servers
        config = as_dict(as_dict(data).get("configuration"))
        domain = as_dict(data).get("uri")
    data = as_dict(data)
    statuses = as_dict(config.get("statuses"))
    max_characters = positive(statuses.get("max_characters"), data.get("max_toot_chars"))
    url_length = positive(statuses.get("characters_reserved_per_url"))
    version = str(data.get("version") or "")
    return Instance(
        domain=domain_of(domain) or fallback_domain,
        version=version_number(version),
        software=server_software(version, str(data.get("source_url") or "")),
        max_characters=max_characters or DEFAULT_MAX_CHARACTERS,
        url_length=url_length or DEFAULT_URL_LENGTH,
    )


async def search_warnings(http: HttpClient, host: str, instance: Instance, own_id: str) -> list[str]:
    """Whether `search = [...]` can find anything: searches for a word of our own newest
    status, which any server that indexes statuses finds (Mastodon without Elasticsearch
    does not; GoToSocial searches only our own posts and the replies to us)."""
    if instance.software == "GoToSocial":
        return [
            "search on GoToSocial finds only our own posts and the replies to us: keyword "
            + "listening (search = [...]) will not find what others write"
        ]
    try:
        word = await own_recent_word(http, own_id)
        if word is None:
            return []  # nothing posted yet: nothing to test the search with
        response = await http.request(
            "GET", "/api/v2/search",
            params={"q": word, "type": "statuses", "resolve": "false", "limit": "5"},
        )  # fmt: skip
    except AuthError:
        raise
    except PermanentError as exc:
        return [f"search is refused here ({exc}): keyword listening (search = [...]) finds nothing"]
    except ChannelError as exc:
        return [f"could not test the search here yet: {exc}"]
    if not objects(as_dict(response.json()).get("statuses")):
        return [
            f"search does not index statuses on {host} (a word of our own newest post "
            + "is not found): keyword listening (search = [...]) finds nothing"
        ]
    return []


async def own_recent_word(http: HttpClient, own_id: str) -> str | None:
    """A plain word (5+ letters) of our newest status, for testing the search."""
    path = f"/api/v1/accounts/{quote(own_id, safe='')}/statuses"
    statuses = objects(await http.get_json(path, params={"limit": "5"}))
    for status in statuses:
        text, _, _ = text_and_links(status)
        for word in comparable(text).split():
            if len(word) >= 5 and word.isalpha():
                return word
    return None
