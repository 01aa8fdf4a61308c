"""The page a browser sees when an OAuth flow comes back to ecoinbox's loopback listener (Reddit,
YouTube): one short HTML answer, then the connection closed."""

from __future__ import annotations

import asyncio
import html

__all__ = ["send_page"]


async def send_page(writer: asyncio.StreamWriter, status: str, page: str) -> None:
    """Answer `status` ("200 OK") with `page` as a paragraph (escaped), and close."""
    body = f"<!DOCTYPE html><title>ecoinbox</title><p>{html.escape(page)}</p>".encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    try:
        writer.write(head.encode() + body)
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
