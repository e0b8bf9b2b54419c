"""How updates leave the emulator: getUpdates long polling, or webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import aiohttp

from playground.emulator.contract import Described, MethodTable
from playground.emulator.errors import bad_request, conflict
from playground.emulator.params import Params
from playground.emulator.state import EmulatorState, WebhookConfig

log = logging.getLogger(__name__)

MAX_POLL_TIMEOUT = 50.0  # the cloud Bot API cuts longer polls short too
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
TERMINATED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _allowed_updates(state: EmulatorState, p: Params) -> None:
    kinds = p.opt_list("allowed_updates", invalid="can't parse allowed_updates JSON object")
    if kinds is not None:
        state.updates.set_allowed([str(kind) for kind in kinds])


async def get_updates(state: EmulatorState, p: Params) -> list[dict[str, Any]]:
    if state.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    offset = p.opt_int("offset") or 0
    limit = min(max(p.opt_int("limit") or 100, 1), 100)
    # Fractional timeouts are an emulator extension that keeps tests fast.
    timeout = min(max(p.opt_float("timeout") or 0.0, 0.0), MAX_POLL_TIMEOUT)
    _allowed_updates(state, p)
    state.updates.confirm(offset)
    state.poll_generation += 1
    generation = state.poll_generation
    # Wakes an older pending poll, which then fails with 409 like on Telegram.
    state.changed.notify()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        batch = state.updates.take(limit)
        if batch or state.closing:
            return batch
        remaining = deadline - loop.time()
        if remaining <= 0:
            return []
        try:
            async with asyncio.timeout(remaining):
                await state.changed.wait()
        except TimeoutError:
            return []
        if state.poll_generation != generation:
            raise conflict(TERMINATED)
        if state.webhook is not None:
            raise conflict(WEBHOOK_ACTIVE)


async def set_webhook(state: EmulatorState, p: Params) -> Described:
    url = p.opt_str("url") or ""
    if not url:
        had_hook = state.webhook is not None
        state.webhook = None
        state.changed.notify()
        return Described(True, "Webhook was deleted" if had_hook else "Webhook is already deleted")
    # The cloud API demands HTTPS on a few ports; a local emulator must accept plain HTTP.
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = p.opt_str("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if p.flag("drop_pending_updates"):
        state.updates.drop_all()
    _allowed_updates(state, p)
    unchanged = state.webhook is not None and state.webhook.url == url
    state.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=p.opt_int("max_connections") or 40,
        ip_address=p.opt_str("ip_address"),
    )
    state.changed.notify()
    return Described(True, "Webhook is already set" if unchanged else "Webhook was set")


async def delete_webhook(state: EmulatorState, p: Params) -> Described:
    if p.flag("drop_pending_updates"):
        state.updates.drop_all()
    had_hook = state.webhook is not None
    state.webhook = None
    state.changed.notify()
    return Described(True, "Webhook was deleted" if had_hook else "Webhook is already deleted")


async def get_webhook_info(state: EmulatorState, p: Params) -> dict[str, Any]:
    hook = state.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates.pending),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        if state.updates.allowed:
            info["allowed_updates"] = sorted(state.updates.allowed)
    return info


class WebhookDeliverer:
    """POSTs pending updates, oldest first, to the webhook while one is set.

    One at a time keeps the order tests expect; a failed delivery is retried with backoff
    and the update stays pending, as Telegram does.
    """

    def __init__(self, state: EmulatorState, *, request_timeout: float = 10.0) -> None:
        self.state = state
        self.request_timeout = request_timeout
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        if self._task is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.request_timeout)
            )
            self._task = asyncio.create_task(self._run(), name="bot-api-emulator-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        backoff = 0.05
        while not self.state.closing:
            hook = self.state.webhook
            batch = self.state.updates.take(1) if hook is not None else []
            if hook is None or not batch:
                await self.state.changed.wait()
                continue
            error = await self._post(hook, batch[0])
            if error is None:
                backoff = 0.05
                self.state.updates.confirm(batch[0]["update_id"] + 1)
                self.state.emit("webhook_delivered", update_id=batch[0]["update_id"])
                continue
            hook.last_error_date = self.state.now()
            hook.last_error_message = error
            self.state.emit("webhook_error", error=error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _post(self, hook: WebhookConfig, update: dict[str, Any]) -> str | None:
        assert self._session is not None
        headers = {}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with self._session.post(hook.url, json=update, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.debug("webhook delivery to %s failed: %r", hook.url, exc)
            return f"Connection failed: {exc.__class__.__name__}"


METHODS: MethodTable = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
