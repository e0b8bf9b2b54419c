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

from bot.emulator.emulator import BotApiEmulator, describe_call
from bot.emulator.errors import ApiError
from bot.emulator.faults import FaultRule
from bot.emulator.params import Upload
from bot.emulator.state import EmuMessage, RecordedCall, StoredFile, WebhookConfig
from bot.emulator.user import SimulatedUser

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "EmuMessage",
    "FaultRule",
    "RecordedCall",
    "SimulatedUser",
    "StoredFile",
    "Upload",
    "WebhookConfig",
    "describe_call",
]
