"""A local stand-in for Akismet's REST API (1.1) on loopback, answering as its documentation says.

POST /1.1/verify-key (key, blog): "valid", or "invalid" with an X-akismet-debug-help header.
POST /1.1/comment-check (api_key, blog, user_ip, comment_*...): "true" (spam), "true" with
`X-akismet-pro-tip: discard` (blatant spam), "false"; "invalid" for a wrong key; a missing required
field (api_key, blog) is said in X-akismet-debug-help. comment_author "akismet-guaranteed-spam"
is spam (Akismet's documented test value); this stand-in also calls spam what holds `SPAM_WORD`,
and blatant what holds `DISCARD_WORD`. POST /1.1/submit-spam and /1.1/submit-ham answer "Thanks
for making the web a better place." Every form received is kept in `forms` (endpoint, fields).
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from ecoinbox.demo.loopback import Handler, LoopbackServer

KEY: Final = "akismet-key-7b1e-never-in-logs"
SPAM_WORD: Final = "cheap-replica-watches"
DISCARD_WORD: Final = "casino-jackpot-now"
THANKS: Final = "Thanks for making the web a better place."


class AkismetServer(LoopbackServer):
    def __init__(self, *, key: str = KEY, blog: str = "https://blog.velora.example") -> None:
        super().__init__()
        self.key = key
        self.blog = blog
        self.forms: list[tuple[str, dict[str, str]]] = []

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/1.1/verify-key", self._verify_key)
        router.add_post("/1.1/comment-check", self._comment_check)
        router.add_post("/1.1/submit-spam", self._submit)
        router.add_post("/1.1/submit-ham", self._submit)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)

    async def _form(self, request: web.Request) -> dict[str, str]:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.forms.append((request.path.rsplit("/", 1)[-1], form))
        return form

    async def _verify_key(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if form.get("key") == self.key and form.get("blog") == self.blog:
            return web.Response(text="valid")
        return web.Response(
            text="invalid", headers={"X-akismet-debug-help": "We were unable to verify your key."}
        )

    def _refusal(self, form: dict[str, str]) -> web.Response | None:
        for field in ("api_key", "blog"):
            if not form.get(field):
                help_text = f"Empty {field} value"
                return web.Response(text="invalid", headers={"X-akismet-debug-help": help_text})
        if form["api_key"] != self.key:
            return web.Response(text="invalid", headers={"X-akismet-debug-help": "Invalid key"})
        return None

    async def _comment_check(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        refused = self._refusal(form)
        if refused is not None:
            return refused
        content = form.get("comment_content", "")
        if DISCARD_WORD in content:
            return web.Response(text="true", headers={"X-akismet-pro-tip": "discard"})
        if form.get("comment_author") == "akismet-guaranteed-spam" or SPAM_WORD in content:
            return web.Response(text="true")
        return web.Response(text="false")

    async def _submit(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        return self._refusal(form) or web.Response(text=THANKS)
