"""[[channels]]: the keys every channel has are read here; a platform's own keys by its unit
(`ecoinbox.channels.registry`), so adding a platform changes nothing in this file."""

from __future__ import annotations

from urllib.parse import urlsplit

from ecoinbox.channels import registry
from ecoinbox.channels.settings import CHANNEL_NAME_RE, COMMON_KEYS, ChannelSettings, channel_name
from ecoinbox.channels.unit import PlatformUnit
from ecoinbox.config.validate import (
    MISSING,
    Table,
    argv,
    base_url,
    boolean,
    choice,
    describe,
    env_name,
    hashtags,
    is_loopback_host,
    nonempty_string,
    seconds,
    string_list,
)

__all__ = ["read_channel", "read_channels"]


def read_channels(top: Table) -> tuple[ChannelSettings, ...]:
    """Every [[channels]] entry, each checked; names unique."""
    top.known.append("channels")
    entries = top.data.get("channels", [])
    if not isinstance(entries, list):
        top.validator.problem(
            ("channels",), f"expected a list of [[channels]] tables, got {describe(entries)}"
        )
        return ()
    channels: list[ChannelSettings] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            top.validator.problem(
                ("channels", index), f"expected a [[channels]] table, got {describe(entry)}"
            )
            continue
        channel = read_channel(Table(top.validator, entry, ("channels", index), "channels"))
        name = entry.get("name")
        if isinstance(name, str) and CHANNEL_NAME_RE.fullmatch(name):
            if name in first_index:
                top.validator.problem(
                    ("channels", index, "name"),
                    f"duplicate channel name '{name}' (also channels[{first_index[name]}]); "
                    "names must be unique",
                )
            else:
                first_index[name] = index
        if channel is not None:
            channels.append(channel)
    return tuple(channels)


def read_channel(table: Table) -> ChannelSettings | None:
    """One [[channels]] entry: the common keys, then its unit's own."""
    kind = table.get("kind", choice(registry.KINDS, "channel kind"))
    unit = registry.unit(kind) if kind is not None else None
    name = table.get("name", channel_name)
    default_url = unit.default_base_url if unit is not None else None
    url = table.get(
        "base_url",
        unit.base_url_check if unit is not None else base_url,
        MISSING if default_url is None else default_url,
    )
    loopback = url is not None and is_loopback_host(urlsplit(url).hostname)
    account = table.get("account", nonempty_string, None)
    tags = table.get("hashtags", hashtags, ())
    search = table.get("search", string_list, ())
    poll_interval = table.get("poll_interval", seconds, 60.0)
    floor = 1.0 if loopback else 5.0
    if poll_interval < floor:
        hint = "" if loopback else " (1 is allowed only for a loopback server, e.g. the demo)"
        table.problem("poll_interval", f"must be at least {floor:g} seconds{hint}")
    include_filtered = table.get("include_filtered", boolean, True)
    timeout = table.get("timeout", seconds, 20.0)
    stream = table.get("stream", boolean, None)
    if stream is not None and unit is not None and not unit.streams:
        streaming = " and ".join(each.kind for each in registry.all_units() if each.streams)
        table.problem("stream", f"only {streaming} channels stream; the others poll")
    token_cmd = table.get("token_cmd", argv, None)
    token_env = table.get("token_env", env_name, None)
    keyring = table.get("keyring", boolean, True)
    auth = table.get("auth", nonempty_string, None)
    if unit is None:  # no kind to judge the other keys by: they wait until it is fixed
        table.known.extend(key for key in table.data if registry.owner_of(key))
        table.finish()
        return None
    common = ChannelSettings(
        kind=unit.kind,
        name=name or "",
        base_url=url or "",
        account=account,
        hashtags=tags,
        search=search,
        poll_interval=poll_interval,
        include_filtered=include_filtered,
        timeout=timeout,
        stream=True if stream is None else stream,
        token_cmd=token_cmd,
        token_env=token_env,
        keyring=keyring,
        auth=auth or unit.auth_modes[0],
    )
    settings = unit.read(table, common)
    _refuse_foreign_keys(table, unit)
    table.finish()
    if name is None or url is None:
        return None
    if auth is not None and auth not in unit.auth_modes:
        allowed = ", ".join(unit.auth_modes)
        table.problem("auth", f"'{auth}' is not an auth mode of {unit.kind} (allowed: {allowed})")
    return settings


def _refuse_foreign_keys(table: Table, unit: PlatformUnit) -> None:
    """Another platform's keys in this entry: each refused by the unit that has it."""
    for key in [key for key in table.data if key not in table.known and key not in COMMON_KEYS]:
        owners = registry.owner_of(key)
        if owners:
            owners[0].refuse(table, key, unit.kind)
