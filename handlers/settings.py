"""/settings in Telegram: the user's class length, pace, easier options and cues, on one
message: a tap on a setting shows its values, a tap on a value sets it and shows them all
again."""

from __future__ import annotations

from enum import StrEnum

from telegram import Update

from bot.user_settings import Setting, UserSettings
from handlers import messages
from handlers.buttons import SettingButton, SettingsView
from handlers.context import YogaContext
from handlers.render import common
from handlers.render import settings as render


async def settings_command(update: Update, context: YogaContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    services = context.services
    settings = await services.user_settings.of(user.id)
    reply = render.settings_message(settings, services.practice.default_class)
    await messages.send(context.bot, chat.id, reply)


async def setting_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = SettingButton.parse(query.data)
    assert press is not None  # routed here by SettingButton.pattern
    if query.message is None or not press.fits:
        await messages.answer(query, common.OUT_OF_DATE)
        return
    services = context.services
    settings = await services.user_settings.of(user.id)
    # The value already in force (a double tap, or a tap on the marked button) is not
    # stored again; the message is still redrawn, in case another /settings changed it.
    if _in_force(settings, press.setting) != press.value:
        settings = await services.user_settings.change(
            user.id, query.message.chat.id, user.first_name, press.setting, press.value
        )
    await messages.answer(query, render.changed(press.setting, press.value))
    reply = render.settings_message(settings, services.practice.default_class)
    await messages.edit_pressed(context.bot, query, reply)


async def settings_view(update: Update, context: YogaContext) -> None:
    """Show one setting's values, or all the settings again; nothing changes."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = SettingsView.parse(query.data)
    assert press is not None  # routed here by SettingsView.pattern
    await messages.answer(query)
    services = context.services
    settings = await services.user_settings.of(user.id)
    yoga_class = services.practice.default_class
    if press.setting is None:
        reply = render.settings_message(settings, yoga_class)
    else:
        reply = render.setting_page(press.setting, settings, yoga_class)
    await messages.edit_pressed(context.bot, query, reply)


def _in_force(settings: UserSettings, setting: Setting) -> StrEnum:
    match setting:
        case Setting.CLASS_LENGTH:
            return settings.class_length
        case Setting.PACE:
            return settings.pace
        case Setting.EASIER_MODE:
            return settings.easier_mode
        case Setting.PICTURES:
            return settings.pictures
        case Setting.VOICE:
            return settings.voice
