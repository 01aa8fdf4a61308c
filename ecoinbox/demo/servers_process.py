"""The demo's local servers in a process of their own, beside the inbox's.

Under one interpreter lock the servers' start, their seeding and their answers to the first
polls took turns with the inbox's imports and frames; in a child process they use the second core.
The child (`python -m ecoinbox.demo serve ...`, `ecoinbox.demo.runner.serve`) starts them,
writes the config, and prints one line: the config's path, or why it could not start. It stops
when its standard input closes: the inbox closes it when it quits, and the kernel does when the
inbox dies in any way (a crash, kill -9), so no server outlives the demo.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["READY", "Servers", "ServersFailed", "ServersProcess", "ready_line", "serve_argv"]

READY = "ecoinbox-demo-servers "
"""The start of the child's one line on stdout; what follows is JSON."""
STOP_WAIT_S = 10.0
"""How long the child may take to stop its servers (and Dovecot) before it is killed."""
STDERR_LINES = 20


class ServersFailed(Exception):
    """The servers' process could not start them; the message says why."""


@dataclass(frozen=True, slots=True)
class Servers:
    """What the child reported once its servers listened."""

    config_path: Path
    left_out: list[str]
    """Why a site could not run here (e.g. no Dovecot), one line each."""
    pid: int


def serve_argv(
    *, seed: int, data_dir: Path, traffic: bool, generated: Path | None, python: str = sys.executable
) -> list[str]:
    """The child's command line."""
    argv = [python, "-m", "ecoinbox.demo", "serve", "--seed", str(seed), "--data-dir", str(data_dir)]
    if not traffic:
        argv.append("--quiet-traffic")
    if generated is not None:
        argv += ["--generated", str(generated)]
    return argv


def ready_line(config_path: Path | None, left_out: list[str], error: str | None = None) -> str:
    """The child's line: where its config is, or the error that stopped it."""
    if error is not None:
        return READY + json.dumps({"error": error})
    return READY + json.dumps({"config": str(config_path), "left_out": left_out})


class ServersProcess:
    """The child running the servers, from its start to its stop."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        # Read all along: a child that writes to a full pipe would hang.
        self._draining = asyncio.create_task(self._drain(), name="demo-servers-stderr")

    @classmethod
    async def start(cls, argv: list[str]) -> ServersProcess:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,  # its end closes with this process, whatever way it ends
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,  # never the terminal: the inbox draws on it
        )
        return cls(process)

    async def _drain(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    async def ready(self) -> Servers:
        """The servers' config once they listen (ServersFailed if the child could not start them)."""
        assert self.process.stdout is not None
        while line := (await self.process.stdout.readline()).decode("utf-8", "replace"):
            if line.startswith(READY):
                said = json.loads(line[len(READY) :])
                if "error" in said:
                    raise ServersFailed(f"The demo's servers could not start: {said['error']}")
                return Servers(Path(said["config"]), [str(n) for n in said["left_out"]], self.process.pid)
        await self.process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._draining), 2)
        said = "\n".join(self._stderr) or f"it exited with status {self.process.returncode}"
        raise ServersFailed(f"The demo's servers stopped before they started:\n{said}")

    async def stop(self) -> int | None:
        """Stop the servers and wait for the child (killed if it takes over STOP_WAIT_S); its status."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()  # what it waits for, as when this process dies
        try:
            await asyncio.wait_for(self.process.wait(), STOP_WAIT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        self._draining.cancel()
        await asyncio.gather(self._draining, return_exceptions=True)
        return self.process.returncode
