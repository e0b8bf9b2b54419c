"""BotApiEmulator: the facade tests, the playground and benchmarks talk to."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from playground.emulator.contract import Described
from playground.emulator.errors import ApiError, internal_error, not_found, unauthorized
from playground.emulator.faults import (
    SILENCE_SECONDS,
    Drop,
    DroppedConnection,
    FaultRule,
    Faults,
    Hold,
)
from playground.emulator.group import SimulatedGroup
from playground.emulator.init_data import sign_init_data
from playground.emulator.media import keep_photo
from playground.emulator.params import Params, coerce_params
from playground.emulator.polling import WebhookDeliverer
from playground.emulator.registry import lookup
from playground.emulator.server import LOCAL_HOSTS, add_routes, make_app
from playground.emulator.state import EmulatorState, MediaCounts, RecordedCall, WebhookConfig
from playground.emulator.user import SimulatedUser
from playground.emulator.webapps import COMMANDS_BUTTON

log = logging.getLogger(__name__)
T = TypeVar("T")
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_call(call: RecordedCall) -> str:
    args = ", ".join(f"{key}={_short(value)}" for key, value in call.params.items())
    outcome = "ok" if call.ok else f"{call.error_code} {call.description}"
    return f"{call.method}({args}) -> {outcome}"


def _describe_predicate(predicate: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        source = getattr(predicate, "__qualname__", repr(predicate))
    return _short(source, 160)


class BotApiEmulator:
    """A local Telegram Bot API server holding private chats with simulated users.

    It answers only requests addressed to one of `allowed_hosts` (by the Host header, port
    aside), 127.0.0.1, localhost and ::1 unless told otherwise; None accepts any host name.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "yogabot_test",
        bot_first_name: str = "Yoga Coach",
        clock: Callable[[], float] = time.time,
        first_update_id: int = 1,
        webhook_timeout: float = 10.0,
        max_recorded_calls: int | None = None,
        allowed_hosts: Collection[str] | None = LOCAL_HOSTS,
    ) -> None:
        self.token = token
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        )
        # Long-running playgrounds and benchmarks cap the call log; tests keep everything.
        self.max_recorded_calls = max_recorded_calls
        self.state = EmulatorState(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            clock=clock,
            first_update_id=first_update_id,
        )
        self.faults = Faults()
        self._users: dict[int, SimulatedUser] = {}
        self._deliverer = WebhookDeliverer(self.state, request_timeout=webhook_timeout)
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        # Cancelling handlers of dropped connections ends orphaned long polls at once.
        runner = web.AppRunner(self.make_app(), handler_cancellation=True, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host = host
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def make_app(self) -> web.Application:
        return make_app(self)

    def add_routes(self, app: web.Application) -> None:
        """Serve this emulator from another aiohttp app (set its client_max_size for uploads)."""
        add_routes(app, self)

    async def on_startup(self, app: web.Application) -> None:
        self.state.closing = False
        self._deliverer.start()

    async def on_shutdown(self, app: web.Application) -> None:
        # Pending long polls must answer now, or shutdown would wait for their timeouts.
        self.state.closing = True
        self.state.changed.notify()

    async def on_cleanup(self, app: web.Application) -> None:
        await self._deliverer.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator has not been started")
        return self._port

    @property
    def api_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For Application.builder().base_url(...)."""
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.api_url}/file/bot"

    # -- dispatching ---------------------------------------------------------------------

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call in-process: (HTTP status, response body) as the server sends."""
        started = time.monotonic()
        values = coerce_params(params or {})
        spec = lookup(method)
        name = spec.name if spec else method
        try:
            used_token = self.token if token is None else token
            if used_token != self.token:
                # Telegram answers 404 to malformed tokens and 401 to well-formed wrong ones.
                raise unauthorized() if _TOKEN_RE.fullmatch(used_token) else not_found()
            if spec is None:
                raise not_found("method not found")
            p = Params(values)
            fault = self.faults.take(spec.name, p)
            if fault is not None and fault.hold is not None:
                # Telegram silent for this call until the test lets it go; then it is
                # carried out and answered as usual.
                fault.hold.arrived.set()
                self.state.changed.notify()
                try:
                    await fault.hold.wait()
                finally:
                    self.state.changed.notify()  # released, or abandoned by the client
                fault = None
            if fault is not None and fault.drop is None:
                raise fault.error()
            if fault is not None and fault.drop == "before":
                self._record(started, name, values, ok=False, dropped=True)
                raise DroppedConnection
            result = await spec.impl(self.state, p)
            if fault is not None:  # carried out, never answered
                self._record(started, name, values, ok=True, result=result, dropped=True)
                raise DroppedConnection(SILENCE_SECONDS if fault.drop == "silent" else 0.0)
        except ApiError as exc:
            self._record(started, name, values, ok=False, error=exc)
            return exc.http_status, exc.payload()
        except DroppedConnection:
            raise
        except Exception as exc:
            log.exception("Bot API emulator failed in %s", name)
            self.state.internal_errors.append(exc)
            error = internal_error(repr(exc))
            self._record(started, name, values, ok=False, error=error)
            return error.http_status, error.payload()
        body: dict[str, Any] = {"ok": True, "result": result}
        if isinstance(result, Described):
            body = {"ok": True, "result": result.result, "description": result.description}
        self._record(started, name, values, ok=True, result=body["result"])
        return 200, body

    def _record(
        self,
        started: float,
        method: str,
        params: dict[str, Any],
        *,
        ok: bool,
        error: ApiError | None = None,
        result: Any = None,
        dropped: bool = False,
    ) -> None:
        self.state.calls.append(
            RecordedCall(
                time=started,
                method=method,
                params=params,
                ok=ok,
                error_code=error.error_code if error else None,
                description=error.description if error else None,
                result=result,
                duration=time.monotonic() - started,
                dropped=dropped,
            )
        )
        limit = self.max_recorded_calls
        if limit is not None and len(self.state.calls) > limit:
            del self.state.calls[: len(self.state.calls) - limit]
        self.state.changed.notify()

    # -- simulated users -----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> SimulatedUser:
        """The simulated user with this id, created on first use; same object afterwards."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        created = SimulatedUser(
            self,
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self._users[user_id] = created
        return created

    def sign_init_data(
        self,
        user: SimulatedUser,
        *,
        clock: Callable[[], float] | None = None,
        query_id: str | None = None,
        chat_type: str | None = None,
        chat_instance: str | None = None,
    ) -> str:
        """initData for `user`, signed with this emulator's token as Telegram signs it,
        dated by `clock` (the emulator's own by default); see init_data.sign_init_data."""
        return sign_init_data(
            self.token,
            user.web_app_user(),
            clock=clock or self.state.clock,
            query_id=query_id,
            chat_type=chat_type,
            chat_instance=chat_instance,
        )

    @property
    def users(self) -> list[SimulatedUser]:
        return list(self._users.values())

    def group(self, chat_id: int, title: str = "Test group") -> SimulatedGroup:
        """A group chat (negative id) that simulated users share; the bot is not in it
        until a member adds it."""
        existing = self.state.chats.get(chat_id)
        if existing is not None:
            raise ValueError(f"chat {chat_id} exists already")
        return SimulatedGroup(self.state, chat_id, title)

    # -- inspection ----------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        return self.state.calls

    @property
    def media(self) -> MediaCounts:
        """The files the bot sent, uploaded or by file_id (see MediaCounts)."""
        return self.state.media

    def calls_of(self, method: str) -> list[RecordedCall]:
        wanted = method.lower()
        return [c for c in self.state.calls if c.method.lower() == wanted]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        return self.state.callback_answers

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Commands of the default scope and language, as set by setMyCommands."""
        return self.state.commands.get(EmulatorState.commands_key(None, None), [])

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        return self.state.commands.get(EmulatorState.commands_key(scope, language_code), [])

    @property
    def default_menu_button(self) -> dict[str, Any]:
        """The bot's default menu button, as getChatMenuButton without chat_id answers."""
        return dict(self.state.default_menu_button or COMMANDS_BUTTON)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (by getUpdates offset or webhook delivery)."""
        return list(self.state.updates.pending)

    @property
    def update_log(self) -> list[dict[str, Any]]:
        return self.state.update_log

    @property
    def webhook(self) -> WebhookConfig | None:
        return self.state.webhook

    @property
    def internal_errors(self) -> list[BaseException]:
        """Exceptions that became 500 answers; a test should expect none."""
        return self.state.internal_errors

    # -- synchronisation and fault injection ---------------------------------------------

    # The timeout parameter is part of the public API and also goes into the error message.
    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Re-check `predicate` on every state change; return its first truthy value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    await self.state.changed.wait()
            except TimeoutError:
                value = predicate()
                if value:
                    return value
                break
        recent = "\n  ".join(describe_call(c) for c in self.state.calls[-8:]) or "(none)"
        raise TimeoutError(
            f"condition not met within {timeout}s: {_describe_predicate(predicate)}\n"
            f"pending updates: {len(self.state.updates.pending)}; last calls:\n  {recent}"
        )

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
        drop: Drop | None = None,
    ) -> FaultRule:
        """Answer the next `times` calls of `method` (for `chat_id` only, if given) with an error.

        retry_after makes it Telegram's flood error: HTTP 429 with parameters.retry_after.
        drop closes the connection with no answer at all: "before" the call is carried out
        (nothing happened) or "after" (it happened, but the client cannot know).
        """
        return self.faults.add(
            method,
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            chat_id=chat_id,
            times=times,
            drop=drop,
        )

    def hold_next(self, method: str, *, chat_id: int | None = None) -> Hold:
        """Keep the next call of `method` (for `chat_id` only, if given) unanswered until
        the returned hold is released: a call on which Telegram hangs. The client's own
        read timeout may give up first (then `abandoned` is set and nothing was done)."""
        hold = Hold()
        self.faults.add(method, chat_id=chat_id, hold=hold)
        return hold

    def keep_photo(self, file_id: str, data: bytes) -> None:
        """Know this photo by `file_id`, as Telegram knows a photo a bot uploaded before
        (a new emulator remembers none)."""
        keep_photo(self.state, file_id, data)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue of state-change events: {"type": "message" | "edit" | "delete" | ...}."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.state.subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        if queue in self.state.subscribers:
            self.state.subscribers.remove(queue)
