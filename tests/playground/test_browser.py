"""The playground in a real browser: Playwright driving Debian's Chromium.

Playwright's own browser download cannot be used here, so the test runs /usr/bin/chromium
and installs Debian's `chromium` package first when it is missing and that is possible
(`make test` does the same through `make browser`), and likewise Debian's colour emoji font
for the emoji test. Otherwise they are skipped, saying why (and fail under CI).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from bot.settings import load_settings
from handlers.render.settings import BACK, SETTING_NAMES
from playground import Playground, playground
from playground.runner import USER_ID
from sequences import load_catalog
from tests.harness.factories import make_class, tiny_png, tiny_sound
from tests.harness.playground import (
    CHECK_IN_QUESTION,
    SCREEN_QUESTION,
    StepPictures,
    running_playground,
)
from tests.harness.webapps import init_data_fields, launch_parameters, telegram_hash
from tests.stories.test_voice_cues import ToneSounds

pytest.importorskip("playwright.async_api", reason="playwright is not installed")

from playwright.async_api import (
    Browser,
    ConsoleMessage,
    FloatRect,
    Frame,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

CHROMIUM = Path("/usr/bin/chromium")
# Debian's colour emoji font (fonts-noto-color-emoji), as the Makefile's `browser` names it.
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
# Headless, and nothing a browser would fetch by itself: the test must work offline.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
APT_TIMEOUT = 600


def _install_chromium() -> str | None:
    """None once /usr/bin/chromium exists, else the reason it cannot."""
    return _install_debian_package("chromium", CHROMIUM)


def _install_emoji_font() -> str | None:
    """None once Debian's colour emoji font is installed, else the reason it cannot."""
    return _install_debian_package("fonts-noto-color-emoji", EMOJI_FONT)


def _install_debian_package(package: str, installs: Path) -> str | None:
    """None once `installs` exists, installing Debian's `package` if need be, else the
    reason it cannot."""
    if installs.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return (
            f"{installs} is missing and cannot be installed here (needs root and apt-get); "
            f"install Debian's {package} package, e.g. with `make browser` as root"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
    ]
    for command in steps:
        try:
            subprocess.run(
                command, env=env, check=True, capture_output=True, text=True, timeout=APT_TIMEOUT
            )
        except subprocess.CalledProcessError as exc:
            tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:]
            return f"`{' '.join(command)}` failed: {' '.join(tail) or exc.returncode}"
        except (subprocess.TimeoutExpired, OSError) as exc:
            return f"`{' '.join(command)}` failed: {exc}"
    return None if installs.exists() else f"apt-get installed {package} but {installs} is missing"


def _needed(reason: str | None) -> None:
    if reason is None:
        return
    # CI must run the browser tests; only a developer's machine may go without them.
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason}")
    print(f"\nbrowser test skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    _needed(_install_chromium())
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def emoji_font() -> None:
    _needed(_install_emoji_font())


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # launch() gives every browser a fresh temporary profile (user-data-dir).
        launched = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


async def open_page(browser: Browser, pg: Playground, problems: list[str]) -> Page:
    page = await browser.new_page(viewport=PHONE)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    await page.goto(pg.url)
    await expect(page.locator("#status")).to_contain_text("online")
    return page


async def send(page: Page, text: str) -> None:
    await page.locator("#text").fill(text)
    await page.locator("#text").press("Enter")


def bot_row(page: Page, text: str | re.Pattern[str]) -> Any:
    return page.locator(".row.bot", has_text=text)


async def test_a_class_followed_in_the_browser(
    browser: Browser, pg: Playground, tmp_path: Path
) -> None:
    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    await expect(page.locator("#empty-commands")).to_contain_text("/start_practice")

    await send(page, "/start_practice")
    await expect(page.locator(".row.user").last).to_contain_text("/start_practice")
    screen = bot_row(page, re.compile(SCREEN_QUESTION, re.IGNORECASE))
    check_in = bot_row(page, re.compile(CHECK_IN_QUESTION, re.IGNORECASE))
    cue = bot_row(page, "1/3 · Pose 1")
    # A new user is screened first; the signs are listed and None of these goes on.
    await expect(screen).to_be_visible()
    await expect(screen).to_contain_text("bladder or bowels")
    await screen.get_by_role("button", name="None of these").click()
    await expect(check_in.or_(cue).first).to_be_visible()
    if await check_in.count():
        await check_in.get_by_role("button", name="Skip", exact=True).click()

    await expect(cue).to_have_count(1)
    await expect(cue.locator(".kbutton")).to_have_text(
        ["Easier option", "Next", "It hurts", "+15 s", "Pause"]
    )
    # The bot's HTML arrives as formatting, not as tags.
    await expect(cue.locator(".text b").first).to_have_text("1/3 · Pose 1")
    cue_id = await cue.get_attribute("data-id")
    same_message = page.locator(f'.row[data-id="{cue_id}"]')

    await cue.get_by_role("button", name="Easier option").click()
    await expect(same_message).to_contain_text("Easier:")
    await expect(same_message).to_contain_text("Easier pose 1: keep the knees down.")
    await expect(same_message.locator(".kbutton")).to_have_text(
        ["Usual version", "Next", "It hurts", "+15 s", "Pause"]
    )
    await expect(same_message.locator(".meta")).to_contain_text("edited")

    await same_message.get_by_role("button", name="Next").click()
    await expect(bot_row(page, "2/3 · Pose 2, right side")).to_be_visible()
    # The old cue's keyboard disappears live, without a reload.
    await expect(same_message.locator(".kbutton")).to_have_count(0)

    screenshot = tmp_path / "playground.png"
    await page.screenshot(path=screenshot)
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert problems == []


async def test_page_shows_media_commands_and_only_telegram_formatting(
    browser: Browser, pg: Playground, tmp_path: Path
) -> None:
    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    bot = pg.application.bot
    await bot.send_message(
        USER_ID,
        '<b>bold</b> &lt;script&gt;alert(1)&lt;/script&gt; <a href="javascript:alert(1)">x</a>',
        parse_mode="HTML",
    )
    await bot.send_message(USER_ID, "<i>as typed</i> then try /help")
    await bot.send_photo(USER_ID, tiny_png(), caption="Your week")
    await bot.send_document(USER_ID, b"day,minutes\n1,30\n", filename="progress.csv")

    formatted = bot_row(page, "bold")
    await expect(formatted.locator("b")).to_have_text("bold")
    await expect(formatted).to_contain_text("<script>alert(1)</script>")
    await expect(page.locator("#chat script, #chat a[href^='javascript']")).to_have_count(0)
    literal = bot_row(page, "as typed")
    await expect(literal).to_contain_text("<i>as typed</i>")
    await expect(literal.locator("i")).to_have_count(0)

    photo = bot_row(page, "Your week").locator("img.photo")
    await expect(photo).to_be_visible()
    assert await photo.evaluate("img => img.complete && img.naturalWidth") == 24
    async with page.expect_download() as download_info:
        await bot_row(page, "progress.csv").locator("a.doc").click()
    download = await download_info.value
    assert download.suggested_filename == "progress.csv"
    saved = tmp_path / "progress.csv"
    await download.save_as(saved)
    assert saved.read_bytes() == b"day,minutes\n1,30\n"

    # Commands in the bot's text and in the menu are tappable and send the command.
    await literal.get_by_role("button", name="/help").click()
    await expect(bot_row(page, "Here is what I can do")).to_be_visible()
    await page.locator("#menu-button").click()
    await expect(page.locator("#menu")).to_be_visible()
    await page.locator("#menu").get_by_text("/start", exact=True).click()
    await expect(page.locator("#menu")).to_be_hidden()
    await expect(bot_row(page, "Hello Friend")).to_be_visible()
    assert problems == []


async def loaded_seconds(player: Any) -> int:
    """The length the browser read from the sound it loaded (so it can play it)."""
    await expect(player).to_have_js_property("readyState", 4, timeout=10_000)
    return int(await player.evaluate("audio => Math.round(audio.duration)"))


async def test_audio_and_voice_play_in_the_chat_and_an_edit_swaps_the_sound(
    browser: Browser, pg: Playground
) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaAudio

    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    bot = pg.application.bot
    easier = InlineKeyboardMarkup([[InlineKeyboardButton("Easier option", callback_data="e")]])
    sent = await bot.send_audio(
        USER_ID,
        tiny_sound(3.0, "MP3"),
        filename="cue.mp3",
        caption="<b>Cat–Cow</b>",
        parse_mode="HTML",
        title="Cat–Cow",
        performer="Yoga Coach",
        reply_markup=easier,
    )
    await bot.send_voice(USER_ID, tiny_sound(2.0, "OGG"), caption="Breathe in")

    cue = bot_row(page, "Cat–Cow")
    await expect(cue.locator(".text b")).to_have_text("Cat–Cow")
    await expect(cue.locator(".audio-title")).to_have_text("Yoga Coach – Cat–Cow")
    await expect(cue.locator(".audio-duration")).to_have_text("0:03")
    await expect(cue.get_by_role("button", name="Easier option")).to_be_visible()
    assert await loaded_seconds(cue.locator("audio")) == 3
    voice = bot_row(page, "Breathe in")
    await expect(voice.locator(".audio.voice .audio-title")).to_have_text("Voice message")
    assert await loaded_seconds(voice.locator("audio")) == 2

    await bot.edit_message_media(
        InputMediaAudio(tiny_sound(5.0, "MP3"), caption="Cat–Cow, easier", filename="e.mp3"),
        chat_id=USER_ID,
        message_id=sent.message_id,
    )
    swapped = bot_row(page, "Cat–Cow, easier")
    await expect(swapped.locator(".meta")).to_contain_text("edited")
    assert await loaded_seconds(swapped.locator("audio")) == 5
    # In place: still two sounds, the cue first, and its button gone with the edit.
    await expect(page.locator(".row.bot audio")).to_have_count(2)
    await expect(page.locator(".row.bot").first).to_contain_text("Cat–Cow, easier")
    await expect(swapped.locator(".kbutton")).to_have_count(0)
    assert problems == []


def test_missing_chromium_gives_a_reason_instead_of_failing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(f"{__name__}.CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    reason = _install_chromium()
    assert reason is not None
    assert "needs root and apt-get" in reason


async def test_sharing_the_browsers_location_sets_the_time_zone(
    browser: Browser, pg: Playground
) -> None:
    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    await page.context.grant_permissions(["geolocation"])
    await page.context.set_geolocation({"latitude": 52.52, "longitude": 13.405})
    await send(page, "/timezone")
    share = page.locator("#reply-keyboard button", has_text="location")
    await expect(share).to_be_visible()
    await share.click()
    await expect(page.locator(".row.user").last).to_contain_text("Location shared")
    await expect(bot_row(page, "Time zone set: Europe/Berlin")).to_be_visible()
    assert problems == []


async def text_box(row: Any, needle: str) -> FloatRect:
    """Where `needle` is drawn inside `row`, in page coordinates."""
    box = await row.evaluate(
        """(row, needle) => {
            const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf(needle);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + needle.length);
                const r = range.getBoundingClientRect();
                return { x: r.x, y: r.y, width: r.width, height: r.height };
            }
            return null;
        }""",
        needle,
    )
    assert box is not None, f"{needle!r} is not in the row"
    return cast(FloatRect, box)


def colourful_pixels(png: bytes) -> int:
    """Pixels of a clear colour: a missing glyph's box is drawn in the text's grey ink."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        data = image.convert("RGB").tobytes()
    pixels = (data[i : i + 3] for i in range(0, len(data), 3))
    return sum(1 for pixel in pixels if max(pixel) - min(pixel) > 60)


@pytest.mark.usefixtures("emoji_font")
async def test_the_bots_emoji_are_drawn_in_colour(browser: Browser, pg: Playground) -> None:
    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    bot = pg.application.bot
    await bot.send_message(USER_ID, "Well done. You finished Tiny Class 🌿")
    await bot.send_message(USER_ID, "Thank you. Your note is saved. 🙏")
    for text, emoji in (("Tiny Class", "🌿"), ("note is saved", "🙏")):
        row = bot_row(page, text)
        await expect(row).to_be_visible()
        shot = await page.screenshot(clip=await text_box(row, emoji))
        # An emoji font draws hundreds of coloured pixels; without one, an empty box has none.
        assert colourful_pixels(shot) > 20, f"{emoji} is drawn without colour"
    assert problems == []


def luminance(css_colour: str) -> float:
    """0 for black, 1 for white, from a computed `rgb(...)` or `rgba(...)` colour."""
    r, g, b = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


async def test_the_page_follows_the_systems_dark_mode(browser: Browser, pg: Playground) -> None:
    problems: list[str] = []
    await pg.application.bot.send_message(USER_ID, "Hello in the dark")
    colours: dict[str, list[str]] = {}
    for scheme in ("light", "dark"):
        page = await browser.new_page(viewport=PHONE, color_scheme=scheme)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        await page.goto(pg.url)
        bubble = bot_row(page, "Hello in the dark").locator(".bubble")
        await expect(bubble).to_be_visible()
        colours[scheme] = await bubble.evaluate(
            """bubble => [
                getComputedStyle(document.querySelector(".app")).backgroundColor,
                getComputedStyle(bubble).backgroundColor,
                getComputedStyle(bubble).color,
                getComputedStyle(document.querySelector(".dock")).backgroundColor,
            ]"""
        )
        await page.close()
    chat, bubble, ink, dock = (luminance(c) for c in colours["light"])
    assert min(chat, bubble, dock) > 0.8 and ink < 0.3, colours["light"]
    chat, bubble, ink, dock = (luminance(c) for c in colours["dark"])
    assert max(chat, bubble, dock) < 0.3 and ink > 0.7, colours["dark"]
    assert problems == []


async def test_the_location_keyboard_leaves_the_last_message_in_view(
    browser: Browser, pg: Playground
) -> None:
    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    # A chat longer than the screen, scrolled to its end as it grows.
    for _ in range(3):
        await send(page, "/help")
        await expect(bot_row(page, "Here is what I can do")).to_have_count(_ + 1)
    await send(page, "/timezone")
    await expect(page.locator("#reply-keyboard button", has_text="location")).to_be_visible()
    last = page.locator(".row.bot").last
    await expect(last).to_contain_text("/timezone")
    # The chat is scrolled so that the last message's last line is above the keyboard.
    await page.wait_for_function(
        """() => {
            const chat = document.getElementById("chat");
            const rows = chat.querySelectorAll(".row");
            const last = rows[rows.length - 1].getBoundingClientRect();
            return last.bottom <= chat.getBoundingClientRect().bottom + 0.5;
        }""",
        timeout=5000,
    )
    assert problems == []


async def test_a_pictures_alt_text_names_the_pose(
    browser: Browser, database_url: str, tmp_path: Path
) -> None:
    problems: list[str] = []
    async with running_playground(database_url, StepPictures(tmp_path)) as pg:
        page = await open_page(browser, pg, problems)
        await send(page, "/start_practice")
        screen = bot_row(page, re.compile(SCREEN_QUESTION, re.IGNORECASE))
        await screen.get_by_role("button", name="None of these").click()
        check_in = bot_row(page, re.compile(CHECK_IN_QUESTION, re.IGNORECASE))
        await check_in.get_by_role("button", name="Skip", exact=True).click()
        picture = bot_row(page, "1/3 · Pose 1").locator("img.photo")
        await expect(picture).to_be_visible()
        await expect(picture).to_have_attribute("alt", "Pose 1")
        await bot_row(page, "1/3 · Pose 1").get_by_role("button", name="Next").click()
        picture = bot_row(page, "2/3 · Pose 2").locator("img.photo")
        await expect(picture).to_have_attribute("alt", "Pose 2, right side")
    assert problems == []


async def cut_short(message: Any) -> list[str]:
    """The buttons of a message whose text does not fit them (drawn ending in "…")."""
    texts: list[str] = await message.locator(".kbutton").evaluate_all(
        "buttons => buttons.filter(b => b.scrollWidth > b.clientWidth).map(b => b.textContent)"
    )
    return texts


async def test_no_settings_button_is_cut_short_on_a_phone(browser: Browser, pg: Playground) -> None:
    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    await send(page, "/settings")
    await expect(bot_row(page, "Your settings")).to_be_visible()
    message_id = await bot_row(page, "Your settings").get_attribute("data-id")
    message = page.locator(f'.row[data-id="{message_id}"]')
    assert await cut_short(message) == []
    for name in SETTING_NAMES.values():
        await message.get_by_role("button", name=re.compile(f"^{name}: ")).click()
        back = message.get_by_role("button", name=BACK)
        await expect(back).to_be_visible()
        assert await cut_short(message) == [], name
        await back.click()
        await expect(back).to_have_count(0)
    assert problems == []


# -- Mini Apps ----------------------------------------------------------------------------------

# The Mini App a test opens: it draws itself in the colours it is given and reports to the
# test what a real one would notice (the launch fragment, messages from its parent, pagehide).
MINI_APP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mini App</title></head>
<body>
<h1>The player</h1>
<p id="who"></p>
<button type="button" id="inside-close">Close from inside</button>
<script>
  const report = (record) => fetch("log", {method: "POST", body: JSON.stringify(record)});
  const launch = new URLSearchParams(location.hash.slice(1));
  const theme = JSON.parse(launch.get("tgWebAppThemeParams") || "{}");
  const user = JSON.parse(new URLSearchParams(launch.get("tgWebAppData")).get("user") || "{}");
  document.body.style.background = theme.bg_color;
  document.body.style.color = theme.text_color;
  document.body.style.font = "18px system-ui, sans-serif";
  document.body.style.padding = "12px";
  const inside = document.getElementById("inside-close");
  inside.style.cssText = "font: inherit; padding: 10px 16px; border: 0; border-radius: 10px";
  inside.style.background = theme.button_color;
  inside.style.color = theme.button_text_color;
  document.getElementById("who").textContent = `Hello ${user.first_name}, user ${user.id}.`;
  report({kind: "opened", hash: location.hash});
  window.addEventListener("message", (event) => {
    report({kind: "message", data: event.data, from_parent: event.source === window.parent});
  });
  window.addEventListener("pagehide", () => {
    navigator.sendBeacon("log", JSON.stringify({kind: "pagehide"}));
  });
  inside.addEventListener("click", () => {
    window.parent.postMessage(JSON.stringify({eventType: "web_app_close"}), "*");
  });
</script>
</body></html>
"""
HIDDEN = '{"eventType":"visibility_changed","eventData":{"is_visible":false}}'


class MiniApp:
    """A tiny Mini App on its own local port, and what it reported."""

    def __init__(self) -> None:
        self.url = ""
        self.reports: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=MINI_APP_PAGE, content_type="text/html")

    async def log(self, request: web.Request) -> web.Response:
        self.reports.append(json.loads(await request.text()))
        self._changed.set()
        return web.Response(status=204)

    def kinds(self) -> list[str]:
        return [report["kind"] for report in self.reports]

    async def wait_for(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The first report of this kind, waiting for it at most `timeout` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                found = next((r for r in self.reports if r["kind"] == kind), None)
                if found is not None:
                    return found
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def mini_app() -> AsyncIterator[MiniApp]:
    app = MiniApp()
    server = web.Application()
    server.router.add_get("/app/", app.page)
    server.router.add_post("/app/log", app.log)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    app.url = f"http://127.0.0.1:{runner.addresses[0][1]}/app/"
    yield app
    await runner.cleanup()


def shots_folder(tmp_path: Path) -> Path:
    """Where the Mini App screenshots go: $PLAYGROUND_SHOTS to look at them, else tmp_path."""
    folder = Path(os.environ.get("PLAYGROUND_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def bot_api(pg: Playground, method: str, **params: Any) -> Any:
    """A Bot API call as the bot makes it: over HTTP, with its token."""
    url = f"{pg.emulator.base_url}{pg.emulator.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=params) as response:
        body = await response.json()
    assert body["ok"], body
    return body["result"]


def checked_launch(pg: Playground, src: str | None, url: str) -> dict[str, Any]:
    """The launch parameters of the frame's address, its initData checked by Telegram's rule."""
    assert src is not None
    launched = launch_parameters(src, url)
    fields = init_data_fields(launched["tgWebAppData"])
    assert fields["hash"] == telegram_hash(pg.emulator.token, fields)
    assert json.loads(fields["user"])["id"] == USER_ID
    return {**launched, "theme": json.loads(launched["tgWebAppThemeParams"])}


async def test_a_web_app_button_opens_the_mini_app_over_the_chat_and_close_tells_it(
    browser: Browser, pg: Playground, mini_app: MiniApp, tmp_path: Path
) -> None:
    shots = shots_folder(tmp_path)
    problems: list[str] = []
    page = await open_page(browser, pg, problems)
    await bot_api(
        pg,
        "sendMessage",
        chat_id=USER_ID,
        text="Your class is ready. Follow it full screen:",
        reply_markup={
            "inline_keyboard": [[{"text": "Open the player", "web_app": {"url": mini_app.url}}]]
        },
    )
    row = bot_row(page, "Your class is ready")
    await expect(row).to_be_visible()
    await page.screenshot(path=shots / "webapp-button-light.png")
    await row.get_by_role("button", name="Open the player").click()

    overlay = page.get_by_role("dialog", name="Yoga Coach")
    await expect(overlay).to_be_visible()
    frame = page.locator("#webapp-frame")
    launched = checked_launch(pg, await frame.get_attribute("src"), mini_app.url)
    assert (launched["tgWebAppVersion"], launched["tgWebAppPlatform"]) == ("8.0", "weba")
    assert launched["theme"]["bg_color"] == "#ffffff"
    # The Mini App got that very address, and draws in its colours.
    opened = await mini_app.wait_for("opened")
    assert launch_parameters(mini_app.url + opened["hash"], mini_app.url) == launch_parameters(
        await frame.get_attribute("src") or "", mini_app.url
    )
    inside = page.frame_locator("#webapp-frame")
    await expect(inside.locator("#who")).to_have_text(f"Hello Friend, user {USER_ID}.")
    # Over the whole chat column, as on a phone: its bar, then the Mini App to the bottom.
    assert await overlay.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
    box = await frame.bounding_box()
    assert box is not None
    assert box["y"] < 60 and box["y"] + box["height"] == 844 and box["width"] == 390
    await page.screenshot(path=shots / "webapp-open-light.png")

    await page.get_by_role("button", name="Close").click()
    message = await mini_app.wait_for("message")
    assert (message["data"], message["from_parent"]) == (HIDDEN, True)
    await mini_app.wait_for("pagehide")
    # Told first, then taken away.
    assert mini_app.kinds() == ["opened", "message", "pagehide"]
    await expect(overlay).to_be_hidden()
    await expect(frame).to_have_count(0)
    await expect(row).to_be_visible()
    assert problems == []


async def test_the_menu_button_opens_the_mini_app_in_dark_mode(
    browser: Browser, pg: Playground, mini_app: MiniApp, tmp_path: Path
) -> None:
    shots = shots_folder(tmp_path)
    problems: list[str] = []
    page = await browser.new_page(viewport=PHONE, color_scheme="dark")
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(pg.url)
    await expect(page.locator("#status")).to_contain_text("online")
    menu_app = page.locator("#webapp-button")
    await expect(page.locator("#menu-button")).to_be_visible()
    # The bot's own default: its player.
    await expect(menu_app).to_have_text("Player")

    await bot_api(
        pg,
        "setChatMenuButton",
        chat_id=USER_ID,
        menu_button={"type": "web_app", "text": "Test app", "web_app": {"url": mini_app.url}},
    )
    # The chat's own button comes live in its place, beside the commands' Menu button.
    await expect(menu_app).to_have_text("Test app")
    menu_box, app_box = (
        await page.locator("#menu-button").bounding_box(),
        await menu_app.bounding_box(),
    )
    assert menu_box is not None and app_box is not None
    assert app_box["x"] > menu_box["x"] and abs(app_box["y"] - menu_box["y"]) < 2
    await page.screenshot(path=shots / "webapp-menu-button-dark.png")

    await menu_app.click()
    overlay = page.locator("#webapp")
    await expect(overlay).to_be_visible()
    frame = page.locator("#webapp-frame")
    launched = checked_launch(pg, await frame.get_attribute("src"), mini_app.url)
    assert launched["theme"]["bg_color"] == "#212121"
    assert launched["theme"]["text_color"] == "#ffffff"
    inside = page.frame_locator("#webapp-frame")
    await expect(inside.locator("#who")).to_have_text(f"Hello Friend, user {USER_ID}.")
    await page.screenshot(path=shots / "webapp-open-dark.png")

    # A Mini App may close itself (Telegram.WebApp.close()): the overlay goes the same way.
    await inside.get_by_role("button", name="Close from inside").click()
    assert (await mini_app.wait_for("message"))["data"] == HIDDEN
    await expect(overlay).to_be_hidden()
    await expect(frame).to_have_count(0)
    await mini_app.wait_for("pagehide")
    assert problems == []


# -- the player (a Telegram Mini App) in the playground's overlay ---------------------------
# A class from Start to the last button: the countdown falls, the voice plays, Pause stops
# the clock, +15 s adds to it, Next moves on, Easier swaps the picture, It hurts offers its
# choices, a reload comes back on the same second, closing pauses the class and the chat
# offers to continue; and the player in Telegram's dark theme.

PLAYER_CLASS = make_class(holds=(60, 60, 60))
# Telegram's dark theme, as the playground passes it.
DARK_BACKGROUND = "rgb(33, 33, 33)"


@pytest.fixture
async def player_pg(database_url: str, tmp_path: Path) -> AsyncIterator[Playground]:
    settings = load_settings(database_url=database_url, time_scale=1.0, voice_engine="off")
    sounds = ToneSounds(tmp_path, list(PLAYER_CLASS.steps), frozenset())
    async with playground(
        settings,
        port=0,
        catalog={PLAYER_CLASS.id: PLAYER_CLASS},
        pictures=StepPictures(tmp_path, easier_too=True),
        sounds=sounds,
        poll_timeout=1,
    ) as running:
        yield running
    assert running.emulator.internal_errors == []


def watch_page(page: Page, problems: list[str]) -> None:
    def on_console(message: Any) -> None:
        # Chromium logs every answer that is not 2xx as "Failed to load resource"; the
        # page handles those (a 409 is a button of a step that is over).
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))


def player_frame(page: Page) -> Frame:
    frame = next((f for f in page.frames if "/app/" in f.url), None)
    assert frame is not None, [f.url for f in page.frames]
    return frame


async def seconds_shown(frame: Frame) -> int:
    return int(await frame.locator("#countdown").inner_text())


async def test_a_class_in_the_player_with_every_button(
    browser: Browser, player_pg: Playground, tmp_path: Path
) -> None:
    pg = player_pg
    shots = shots_folder(tmp_path)
    problems: list[str] = []
    page = await browser.new_page(viewport=PHONE)
    watch_page(page, problems)
    await page.goto(pg.url)
    await expect(page.locator("#status")).to_contain_text("online")

    # /start offers the player; it opens over the chat, as in Telegram.
    await send(page, "/start")
    await page.get_by_role("button", name="Open the player").click()
    await expect(page.locator("#webapp")).to_be_visible()
    inside = page.frame_locator("#webapp-frame")
    screen = inside.locator("#screen")

    # The way in, in the player: Start, the red-flag screen, the check-in.
    await expect(screen).to_have_attribute("data-screen", "start")
    await page.screenshot(path=shots / "player-start.png")
    await inside.locator("#btn-start").click()
    await expect(screen).to_have_attribute("data-screen", "safety")
    await expect(inside.locator("#screen")).to_contain_text("bladder or bowels")
    await inside.locator("#btn-none").click()
    await expect(screen).to_have_attribute("data-screen", "checkin")
    await inside.locator('[data-score="2"]').click()
    await expect(screen).to_have_attribute("data-screen", "practice")
    frame = player_frame(page)
    await expect(inside.locator("#pose-title")).to_have_text("Pose 1")
    await expect(inside.locator("#cue-line")).to_contain_text("pose 1")

    # The countdown falls, and the voice plays (its time goes on).
    first = await seconds_shown(frame)
    assert 40 <= first <= 60
    await frame.wait_for_function(
        "n => Number(document.querySelector('#countdown').textContent) < n", arg=first
    )
    await frame.wait_for_function(
        "() => { const a = document.querySelector('#voice');"
        " return a && a.currentSrc.includes('media/') && a.currentTime > 0.2; }"
    )
    await page.screenshot(path=shots / "player-practice-light.png")
    # The chat has one message about it, and no cue.
    chat_note = page.locator(".row.bot", has_text="playing in the player")
    await expect(chat_note).to_have_count(1)

    # Pause stops the clock where it was; +15 s adds to it.
    await inside.locator("#btn-pause").click()
    await expect(inside.locator("#btn-pause")).to_have_text("Resume")
    await expect(inside.locator("#ring-label")).to_have_text("paused")
    held = await seconds_shown(frame)
    await inside.locator("#btn-more").click()
    await expect(inside.locator("#countdown")).to_have_text(str(held + 15))
    await inside.locator("#btn-pause").click()
    await expect(inside.locator("#btn-pause")).to_have_text("Pause")

    # Next moves on; Easier swaps the picture, and back.
    usual_picture = await inside.locator("#picture").get_attribute("src")
    await inside.locator("#btn-next").click()
    await expect(inside.locator("#pose-title")).to_have_text("Pose 2, right side")
    pose_two = await inside.locator("#picture").get_attribute("src")
    assert pose_two != usual_picture
    await inside.locator("#btn-easier").click()
    await expect(inside.locator("#btn-easier")).to_have_text("Usual")
    easier_picture = await inside.locator("#picture").get_attribute("src")
    assert easier_picture not in (pose_two, None)
    await expect(inside.locator("#screen")).to_contain_text("Easier pose 2: keep the knees down.")
    await page.screenshot(path=shots / "player-easier.png")

    # It hurts stops the clock and offers its choices.
    await inside.locator("#btn-hurt").click()
    question = inside.locator("#question")
    await expect(question).to_have_attribute("data-question", "hurt")
    await expect(inside.locator('[data-action="skip"]')).to_be_visible()
    await expect(inside.locator('[data-action="end_for_pain"]')).to_be_visible()
    await expect(inside.locator('[data-action="try_easier"]')).to_be_visible()
    await page.screenshot(path=shots / "player-hurt.png")
    await inside.locator('[data-action="try_easier"]').click()
    await expect(inside.locator("#btn-hurt")).to_be_visible()

    # Paused, then reloaded: back on the same second.
    await inside.locator("#btn-pause").click()
    await expect(inside.locator("#btn-pause")).to_have_text("Resume")
    before_reload = await seconds_shown(frame)
    await frame.evaluate("location.reload()")
    await expect(inside.locator("#screen")).to_have_attribute("data-screen", "practice")
    await expect(inside.locator("#pose-title")).to_have_text("Pose 2, right side")
    assert await seconds_shown(player_frame(page)) == before_reload

    # Closing the player pauses the class; the chat offers to continue either way.
    await inside.locator("#btn-pause").click()
    await expect(inside.locator("#btn-pause")).to_have_text("Pause")
    await page.locator("#webapp-close").click()
    await expect(page.locator("#webapp")).to_be_hidden()
    offer = page.locator(".row.bot", has_text=re.compile("Paused at pose 2 of 3"))
    await expect(offer).to_have_count(1)
    await expect(offer.locator(".kbutton")).to_have_text(
        ["Continue here", "Continue in the player"]
    )
    await page.screenshot(path=shots / "player-closed-chat-offer.png")
    assert problems == []


async def test_the_player_in_telegrams_dark_theme_from_the_menu_button(
    browser: Browser, player_pg: Playground, tmp_path: Path
) -> None:
    pg = player_pg
    shots = shots_folder(tmp_path)
    problems: list[str] = []
    page = await browser.new_page(viewport=PHONE, color_scheme="dark")
    watch_page(page, problems)
    await page.goto(pg.url)
    await expect(page.locator("#webapp-button")).to_have_text("Player")
    await page.locator("#webapp-button").click()
    inside = page.frame_locator("#webapp-frame")
    await expect(inside.locator("#screen")).to_have_attribute("data-screen", "start")
    background = await player_frame(page).evaluate(
        "getComputedStyle(document.body).backgroundColor"
    )
    assert background == DARK_BACKGROUND
    await inside.locator("#btn-start").click()
    await inside.locator("#btn-none").click()
    await inside.locator("#btn-skip").click()
    await expect(inside.locator("#pose-title")).to_have_text("Pose 1")
    await page.screenshot(path=shots / "player-practice-dark.png")
    assert problems == []


async def test_a_plan_in_the_browser_and_skipping_ahead_to_its_sunday(
    browser: Browser, database_url: str
) -> None:
    shipped = next(iter(load_catalog().values()))
    planned = make_class().model_copy(update={"programme": shipped.programme})
    async with running_playground(database_url, catalog={planned.id: planned}) as pg:
        problems: list[str] = []
        page = await open_page(browser, pg, problems)
        await send(page, "/plan")
        offer = bot_row(page, "A plan for 12 weeks")
        await offer.get_by_role("button", name="3 a week").click()
        plan = bot_row(page, "Your plan · week 1 of 12")
        await expect(plan).to_be_visible()
        await expect(plan.locator(".kbutton")).to_have_text(
            ["Start practice", "How often", "Stop plan"]
        )
        assert await cut_short(plan) == []
        # Skip ahead, from the header's menu, to the plan's Sunday evening.
        await page.locator("#skip-button").click()
        await expect(page.locator("#skip-menu")).to_be_visible()
        await page.get_by_role("button", name="Sunday, 18:00").click()
        await expect(page.locator("#skip-menu")).to_be_hidden()
        await expect(page.locator("#toast")).to_contain_text(re.compile(r"^Bot time: Sun "))
        assert problems == []
