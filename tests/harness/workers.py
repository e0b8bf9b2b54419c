"""Several `yogabot run` workers in webhook mode on one PostgreSQL database, behind a
load balancer, with the Bot API emulator delivering updates to the balancer.

The balancer is nginx (Debian's package, which `make test` installs) running the
project's own docs/nginx/webhook.conf, or, where nginx is not installed, a small balancer
here with the same policy: each request goes to the next worker in turn, and to the one
after that when a worker refuses the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import shutil
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp
from aiohttp import web

from playground.emulator import BotApiEmulator, SimulatedUser
from tests.harness.bot import SCREEN_CLEAR, button_texts

T = TypeVar("T")

# Shaped like a token, but no real bot's (see tests/harness/crash.py).
TOKEN = "7654321:AAHworkersTestNotARealBotToken000000"
SECRET = "workers-test-secret-0123456789abcdef"
PROJECT_DIR = Path(__file__).resolve().parents[2]
# The pose pictures, drawn once for all the session's deployments (named by their content,
# so a shared folder is safe, even for workers drawing at once): a worker then starts
# without drawing any, and a test's timing does not hang on how busy the machine is.
PICTURES = PROJECT_DIR / ".cache" / "pictures"


def _draw_pictures() -> None:
    from bot.pose_pictures import FigurePictures
    from sequences import load_catalog, load_figures

    FigurePictures(load_figures(), PICTURES).prepare(load_catalog().values())


# The 30-minute class in about 18 seconds: a cue every 0.2–1 s.
TIME_SCALE = 0.01
CUE_TITLE = re.compile(r"^(\d+)/(\d+) · ")
CLOSING = "Well done."
CHECKIN_QUESTION = "How does your back feel right now?"
START_TIMEOUT = 60.0
STEP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
)
WEBHOOK_CONF = PROJECT_DIR / "docs" / "nginx" / "webhook.conf"


class NginxBalancer:
    """nginx with the deployment's webhook.conf, in a folder of its own."""

    def __init__(self, upstream_ports: list[int], folder: Path) -> None:
        assert NGINX is not None
        self.port = free_port()
        self.upstream_ports = upstream_ports
        self._folder = folder
        self._process: asyncio.subprocess.Process | None = None
        self.name = "nginx"

    def _config(self) -> str:
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=0;" for port in self.upstream_ports
        )
        temp = self._folder
        return f"""
daemon off;
master_process off;
worker_processes 1;
pid {temp}/nginx.pid;
error_log {temp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$upstream_addr';
    access_log {temp}/upstream.log upstream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    upstream yogabot_workers {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.port};
        include {WEBHOOK_CONF};
    }}
}}
"""

    async def __aenter__(self) -> NginxBalancer:
        assert NGINX is not None
        self._folder.mkdir(parents=True, exist_ok=True)
        config = self._folder / "nginx.conf"
        config.write_text(self._config())
        check = await asyncio.create_subprocess_exec(
            NGINX, "-t", "-q", "-p", str(self._folder), "-c", str(config),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, complaint = await check.communicate()
        assert check.returncode == 0, complaint.decode()
        self._process = await asyncio.create_subprocess_exec(
            NGINX, "-p", str(self._folder), "-c", str(config),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return self
        raise AssertionError("nginx did not listen")

    async def __aexit__(self, *exc: object) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()

    @property
    def served_by(self) -> Counter[int]:
        """The worker port that answered each request (the last one nginx tried)."""
        log = self._folder / "upstream.log"
        lines = log.read_text().split() if log.exists() else []
        return Counter(int(address.rsplit(":", 1)[1]) for address in lines if address[:1].isdigit())


class Balancer:
    """Round robin over the workers' ports, passing over a worker that refuses."""

    def __init__(self, upstream_ports: list[int]) -> None:
        self.port = free_port()
        self.upstream_ports = upstream_ports
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.served_by: Counter[int] = Counter()
        self.name = "the test's own round-robin balancer (nginx is not installed)"

    async def __aenter__(self) -> Balancer:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        first = next(self._turn)
        for n in range(len(self.upstream_ports)):
            port = self.upstream_ports[(first + n) % len(self.upstream_ports)]
            url = f"http://127.0.0.1:{port}{request.path_qs}"
            try:
                async with self._session.request(
                    request.method, url, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
                    self.served_by[port] += 1
                    return web.Response(status=answer.status, body=payload)
            except aiohttp.ClientConnectorError:
                continue  # that worker is down: the next one
            except (aiohttp.ClientError, TimeoutError):
                # The worker died with the request: Telegram is told it failed, and
                # delivers the update again (to whichever worker is next).
                return web.Response(status=502)
        return web.Response(status=502)


@dataclass
class Worker:
    """One `yogabot run` process, started again after every stop."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"----- workers test: start {self.name} #{self.starts}\n".encode())
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cli",
                "run",
                env={**self.env, "WEBHOOK_PORT": str(self.port)},
                cwd=self.log_path.parent,  # so no developer's .env is read
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    async def listening(self, within: float = START_TIMEOUT) -> None:
        """Until the worker's webhook server answers (it starts after migrating)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise AssertionError(f"{self.name} did not listen within {within} s")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, as systemd stops a unit; the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"{self.name} did not stop within 30 s of SIGTERM") from None


@dataclass
class Deployment:
    emulator: BotApiEmulator
    balancer: Balancer | NginxBalancer
    workers: list[Worker]
    log_path: Path
    users: list[SimulatedUser] = field(default_factory=list)

    def log_tail(self, lines: int = 80) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait(self, predicate: Callable[[], T | None], within: float, what: str) -> T:
        try:
            return await self.emulator.wait_for(predicate, timeout=within)
        except TimeoutError:
            raise AssertionError(f"waited {within} s for {what}\n{self.log_tail()}") from None


@contextlib.asynccontextmanager
async def deployment(
    emulator: BotApiEmulator, database_url: str, workdir: Path, workers: int = 2
) -> AsyncIterator[Deployment]:
    ports = [free_port() for _ in range(workers)]
    log_path = workdir / "workers.log"
    if NGINX is None and os.environ.get("CI"):
        # In CI the deployment's own nginx file must be what is tested, never the stand-in.
        raise AssertionError("nginx is not installed; `make test` installs Debian's nginx")
    chosen: Balancer | NginxBalancer = (
        NginxBalancer(ports, workdir / "nginx") if NGINX is not None else Balancer(ports)
    )
    print(f"load balancer: {chosen.name}")
    async with chosen as balancer:
        env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": emulator.api_url,
            "DATABASE_URL": database_url,
            "TIME_SCALE": str(TIME_SCALE),
            "WEBHOOK_URL": f"http://127.0.0.1:{balancer.port}/telegram",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            # The workers only listen; the webhook is registered once, below, as at deploy.
            "WEBHOOK_REGISTER": "false",
            "LOG_LEVEL": "INFO",
            "PICTURE_CACHE_DIR": str(PICTURES),
            # No render process beside each worker (tests/processes/test_voice.py has one).
            "VOICE_ENGINE": "off",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH")) if p
            ),
        }
        running = [Worker(f"worker-{n + 1}", port, env, log_path) for n, port in enumerate(ports)]
        await asyncio.to_thread(_draw_pictures)
        try:
            for worker in running:
                await worker.start()
            for worker in running:
                await worker.listening()
            await register_once(env, log_path)
            yield Deployment(emulator, balancer, running, log_path)
        finally:
            for worker in running:
                if worker.process is not None and worker.process.returncode is None:
                    worker.process.kill()
                    await worker.process.wait()


async def register_once(env: dict[str, str], log_path: Path) -> None:
    """`yogabot webhook set`, the deploy step that points Telegram at the balancer."""
    with log_path.open("ab") as log:
        setter = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli", "webhook", "set",
            env=env, cwd=log_path.parent, stdout=log, stderr=log,
        )  # fmt: skip
        assert await asyncio.wait_for(setter.wait(), timeout=60) == 0


def cue_numbers(user: SimulatedUser) -> list[int]:
    """The step number of every cue the user received, in the order they arrived."""
    numbers = []
    for message in user.bot_messages:
        found = CUE_TITLE.match(message.plain or "")
        if found:
            numbers.append(int(found.group(1)))
    return numbers


def class_length(user: SimulatedUser) -> int | None:
    for message in user.bot_messages:
        found = CUE_TITLE.match(message.plain or "")
        if found:
            return int(found.group(2))
    return None


def finished(user: SimulatedUser) -> bool:
    return any((m.plain or "").startswith(CLOSING) for m in user.bot_messages)


async def start_class(deploy: Deployment, user: SimulatedUser) -> None:
    await user.send("/start_practice")
    screen = await deploy.wait(
        lambda: next((m for m in user.bot_messages if SCREEN_CLEAR in button_texts(m)), None),
        STEP_TIMEOUT,
        f"the red-flag screen for {user.id}",
    )
    await user.tap(screen.message_id, text=SCREEN_CLEAR)
    question = await deploy.wait(
        lambda: next(
            (m for m in user.bot_messages if (m.plain or "").startswith(CHECKIN_QUESTION)), None
        ),
        STEP_TIMEOUT,
        f"the check-in for {user.id}",
    )
    await user.tap(question.message_id, text="Skip")


def class_problems(user: SimulatedUser, allowed_repeats: int) -> list[str]:
    """What is wrong with one user's class: a cue missing or out of order, too many
    repeats, no closing message."""
    numbers, total = cue_numbers(user), class_length(user)
    found: list[str] = []
    if total is None:
        return [f"user {user.id}: no cue at all"]
    if sorted(set(numbers)) != list(range(1, total + 1)):
        missing = sorted(set(range(1, total + 1)) - set(numbers))
        found.append(f"user {user.id}: cues missing: {missing}")
    # In order: a repeat is the same cue again, never one from further back.
    for before, after in itertools.pairwise(numbers):
        if after not in (before, before + 1):
            found.append(f"user {user.id}: cue {after} came after cue {before}")
    repeats = len(numbers) - len(set(numbers))
    if repeats > allowed_repeats:
        found.append(f"user {user.id}: {repeats} cues repeated (allowed {allowed_repeats})")
    if not finished(user):
        found.append(f"user {user.id}: no closing message")
    return found
