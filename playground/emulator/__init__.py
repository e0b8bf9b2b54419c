"""A local Telegram Bot API emulator served over real HTTP (aiohttp).

The bot under test runs unmodified python-telegram-bot pointed at the emulator; tests drive
SimulatedUser objects and inspect what the bot sent::

    async with BotApiEmulator("123456:TEST-TOKEN") as emu:
        app = Application.builder().token(emu.token).base_url(emu.base_url).build()
        ...  # start polling
        user = emu.user(1001, first_name="Ana")
        await user.send("/start")
        reply = await user.wait_bot_message()
        await user.tap(reply.message_id, "Next")
        await emu.wait_for(lambda: emu.callback_answers)
"""

from playground.emulator.emulator import BotApiEmulator, describe_call
from playground.emulator.errors import ApiError
from playground.emulator.faults import FaultRule
from playground.emulator.group import SimulatedGroup
from playground.emulator.params import Upload
from playground.emulator.state import EmuMessage, RecordedCall, StoredFile, WebhookConfig
from playground.emulator.user import SimulatedUser

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "EmuMessage",
    "FaultRule",
    "RecordedCall",
    "SimulatedGroup",
    "SimulatedUser",
    "StoredFile",
    "Upload",
    "WebhookConfig",
    "describe_call",
]
