"""What the engine does for channels the platform pushes to (Mastodon's streaming API, IMAP
IDLE): a push only wakes the channel's poll (`PushChannel.watch`), so what remains to do here is
make sure nothing slow waits for the first pushed message.
"""

from __future__ import annotations

import asyncio

# Long enough that the model, not a cue word, decides: the call loads it.
_WARM_UP_TEXT = "a message pushed to the inbox should not wait for the language model to load"


async def warm_up() -> None:
    """Load the language model now, in a thread: the first message a poll brings loads it
    (1.6-2 s on a small machine), and a pushed mention must be on screen within 2 s. An inbox
    whose first poll brought anything has loaded it already; this costs nothing then."""
    from ecoinbox.language import detect_language  # here: a start without push channels skips it

    await asyncio.to_thread(detect_language, _WARM_UP_TEXT)
