"""The `yogabot` command line: the one entry point above the bot, its Telegram side and
the playground."""

from cli.main import main

__all__ = ["main"]
