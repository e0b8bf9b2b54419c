"""The bare framework, for the benchmarks to measure yogabot against: a python-telegram-bot
22 bot that answers every update with one sendMessage, and keeps nothing.

    python bench/bare_bot.py            # no rate limiter
    BARE_RATE_LIMITER=1 python bench/bare_bot.py   # with PTB's AIORateLimiter (30 a second)

It reads BOT_TOKEN and TELEGRAM_API_URL like yogabot, and polls the same way.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, TypeHandler


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, "ok")


def main() -> None:
    api = os.environ["TELEGRAM_API_URL"]
    builder = (
        ApplicationBuilder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
    )
    # With a rate limiter the bot is another type (ExtBot[int]), so it is built apart.
    application = (
        builder.rate_limiter(AIORateLimiter(max_retries=3)).build()
        if os.environ.get("BARE_RATE_LIMITER") == "1"
        else builder.build()
    )
    application.add_handler(TypeHandler(Update, answer))
    application.run_polling(
        poll_interval=0, timeout=10, allowed_updates=["message", "callback_query"]
    )


if __name__ == "__main__":
    main()
