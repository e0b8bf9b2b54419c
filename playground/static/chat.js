// yogabot playground: draws the chat from the server's event stream and sends what you do.
// Plain DOM, no framework. Bot text is built as DOM nodes (never innerHTML), allowing only
// the tags Telegram's HTML parse mode has.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const chat = $("chat");
  const empty = $("empty");
  const statusLine = $("status");
  const input = $("text");
  const menu = $("menu");
  const menuButton = $("menu-button");
  const toast = $("toast");
  const replyKeyboard = $("reply-keyboard");
  const webapp = $("webapp");
  const webappBody = $("webapp-body");
  const webappButton = $("webapp-button");

  let botName = "Yoga Coach";
  let actionTimer = 0;
  let toastTimer = 0;

  // -- Telegram HTML, safely ------------------------------------------------------------

  // Telegram's tags and their aliases; anything else is shown as the text it is.
  const TAGS = {
    b: "b", strong: "b", i: "i", em: "i", u: "u", ins: "u",
    s: "s", strike: "s", del: "s", code: "code", pre: "pre", a: "a",
  };
  const TAG_RE = /<(\/?)([a-zA-Z][\w-]*)([^<>]*)>/g;
  const ENTITY_RE = /&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi;
  const NAMED = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
  const COMMAND_RE = /(^|[\s(])(\/[A-Za-z0-9_]{1,32})(?=$|[\s.,!?;:)])/g;
  const SAFE_URL = /^(https?:|tg:|mailto:)/i;

  function decode(text) {
    return text.replace(ENTITY_RE, (match, name) => {
      const lower = name.toLowerCase();
      if (lower in NAMED) return NAMED[lower];
      const code = lower.startsWith("#x") ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
    });
  }

  // Commands in the bot's text are tappable, as in Telegram.
  function appendText(parent, raw, linkCommands) {
    const text = decode(raw);
    if (!linkCommands) {
      parent.append(text);
      return;
    }
    let last = 0;
    for (const m of text.matchAll(COMMAND_RE)) {
      const start = m.index + m[1].length;
      parent.append(text.slice(last, start));
      const link = document.createElement("button");
      link.type = "button";
      link.className = "cmd-link";
      link.textContent = m[2];
      link.addEventListener("click", () => send(m[2]));
      parent.append(link);
      last = start + m[2].length;
    }
    parent.append(text.slice(last));
  }

  function element(tag, attrs) {
    if (tag !== "a") return document.createElement(tag);
    const href = /href\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(attrs);
    const url = href ? decode(href[1] ?? href[2]).trim() : "";
    if (!SAFE_URL.test(url)) return document.createElement("span");
    const a = document.createElement("a");
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function renderHtml(parent, html, linkCommands) {
    const stack = [{ tag: null, node: parent }];
    let last = 0;
    for (const m of html.matchAll(TAG_RE)) {
      const top = stack[stack.length - 1];
      appendText(top.node, html.slice(last, m.index), linkCommands);
      last = m.index + m[0].length;
      const tag = TAGS[m[2].toLowerCase()];
      if (!tag) {
        appendText(top.node, m[0], false);
      } else if (m[1]) {
        if (stack.length > 1 && top.tag === tag) stack.pop();
      } else {
        const node = element(tag, m[3]);
        top.node.append(node);
        stack.push({ tag, node });
      }
    }
    appendText(stack[stack.length - 1].node, html.slice(last), linkCommands);
  }

  // -- drawing messages -----------------------------------------------------------------

  function clock(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }

  function sizeText(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function keyboardNode(message) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    for (const row of message.keyboard) {
      const line = document.createElement("div");
      line.className = "krow";
      for (const button of row) {
        let node;
        if (button.url && SAFE_URL.test(button.url)) {
          node = document.createElement("a");
          node.href = button.url;
          node.target = "_blank";
          node.rel = "noopener noreferrer";
        } else {
          node = document.createElement("button");
          node.type = "button";
          if (button.data !== undefined) {
            node.addEventListener("click", () => tap(node, message.id, button.data));
          } else if (button.web_app !== undefined) {
            node.classList.add("opens-app");
            node.addEventListener("click", () => openWebApp(button.web_app, node));
          }
        }
        node.className = "kbutton";
        node.textContent = button.text;
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  // An audio file or a voice note: the browser's own player, with its title and length.
  function audioNode(audio) {
    const box = document.createElement("div");
    box.className = `audio ${audio.voice ? "voice" : "music"}`;
    const label = document.createElement("div");
    label.className = "audio-label";
    const title = document.createElement("span");
    title.className = "audio-title";
    title.textContent = audio.performer ? `${audio.performer} – ${audio.title}` : audio.title;
    const length = document.createElement("span");
    length.className = "audio-duration";
    length.textContent = duration(audio.duration);
    label.append(title, length);
    if (audio.cover) {
      // The cover, small as in Telegram's chat; a tap shows it large, as its player does.
      const cover = document.createElement("img");
      cover.className = "audio-cover";
      cover.src = audio.cover;
      cover.alt = `Cover: ${audio.title}`;
      cover.addEventListener("click", () => {
        cover.classList.toggle("large");
        keepAtBottom();
      });
      box.append(cover);
    }
    const player = document.createElement("audio");
    player.controls = true;
    player.preload = "metadata";
    player.src = audio.url;
    player.setAttribute("aria-label", `${audio.voice ? "Voice message" : "Audio"}: ${audio.title}`);
    box.append(label, player);
    return box;
  }

  function messageNode(message) {
    const row = document.createElement("div");
    row.className = `row ${message.from_bot ? "bot" : "user"}`;
    row.dataset.id = String(message.id);
    row.dataset.version = String(message.version);
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (message.photo) {
      const img = document.createElement("img");
      img.className = "photo";
      img.src = message.photo.url;
      img.alt = message.photo.alt ?? "Photo from the bot";
      if (message.photo.width && message.photo.height) {
        img.width = message.photo.width;
        img.height = message.photo.height;
      }
      img.addEventListener("load", () => keepAtBottom());
      bubble.append(img);
    }
    if (message.document) {
      const link = document.createElement("a");
      link.className = "doc";
      link.href = message.document.url;
      link.download = message.document.name;
      const icon = document.createElement("span");
      icon.className = "doc-icon";
      icon.textContent = "↓";
      const label = document.createElement("span");
      const name = document.createElement("span");
      name.className = "doc-name";
      name.textContent = message.document.name;
      const size = document.createElement("span");
      size.className = "doc-size";
      size.textContent = sizeText(message.document.size);
      label.append(name, size);
      link.append(icon, label);
      bubble.append(link);
    }
    if (message.audio) bubble.append(audioNode(message.audio));
    const text = document.createElement("div");
    text.className = "text";
    renderHtml(text, message.caption_html ?? message.html, message.from_bot);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = (message.edited ? "edited " : "") + clock(message.date);
    text.append(meta);
    bubble.append(text);
    row.append(bubble, keyboardNode(message));
    return row;
  }

  let stickToBottom = true;
  chat.addEventListener("scroll", () => {
    stickToBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  });
  function keepAtBottom() {
    if (stickToBottom) chat.scrollTop = chat.scrollHeight;
  }
  // The chat shrinks when a reply keyboard opens under it (or the window shrinks): it stays
  // scrolled to its end, so the keyboard never covers the last message.
  new ResizeObserver(() => keepAtBottom()).observe(chat);

  function findRow(id) {
    return chat.querySelector(`.row[data-id="${id}"]`);
  }

  // Insert or replace by id; an event never replaces a newer version of a message.
  function upsert(message) {
    const existing = findRow(message.id);
    if (existing) {
      if (Number(existing.dataset.version) > message.version) return;
      existing.replaceWith(messageNode(message));
    } else {
      const later = [...chat.querySelectorAll(".row")].find((r) => Number(r.dataset.id) > message.id);
      chat.insertBefore(messageNode(message), later ?? null);
    }
    empty.hidden = true;
    keepAtBottom();
  }

  function remove(id) {
    findRow(id)?.remove();
    empty.hidden = chat.querySelector(".row") !== null;
  }

  function drawCommands(commands) {
    for (const list of [$("menu-commands"), $("empty-commands")]) {
      list.replaceChildren();
      for (const command of commands) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = `/${command.command}`;
        const what = document.createElement("span");
        what.className = "what";
        what.textContent = command.description;
        button.append(name, what);
        button.addEventListener("click", () => {
          showMenu(false);
          send(`/${command.command}`);
        });
        item.append(button);
        list.append(item);
      }
    }
    menuButton.hidden = commands.length === 0;
  }

  function drawReplyKeyboard(rows) {
    replyKeyboard.replaceChildren();
    replyKeyboard.hidden = !rows || rows.length === 0;
    for (const row of rows ?? []) {
      const line = document.createElement("div");
      line.className = "krow";
      for (const { text, location } of row) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = text;
        button.addEventListener("click", () => (location ? shareLocation() : send(text)));
        line.append(button);
      }
      replyKeyboard.append(line);
    }
  }

  // The bot's Mini App button beside the text field (setChatMenuButton), if it set one.
  function drawMenuButton(button) {
    webappButton.hidden = !button;
    webappButton.textContent = button ? button.text : "";
    webappButton.dataset.url = button ? button.url : "";
  }
  webappButton.addEventListener("click", () => {
    showMenu(false);
    openWebApp(webappButton.dataset.url, webappButton);
  });

  function drawState(state) {
    botName = state.bot.name;
    $("bot-name").textContent = botName;
    document.title = `${botName} · yogabot playground`;
    for (const row of chat.querySelectorAll(".row")) row.remove();
    for (const message of state.messages) upsert(message);
    empty.hidden = state.messages.length > 0;
    drawCommands(state.commands);
    drawReplyKeyboard(state.reply_keyboard);
    drawMenuButton(state.menu_button);
    stickToBottom = true;
    keepAtBottom();
  }

  // -- status line, toasts, menu --------------------------------------------------------

  function setStatus(text, kind) {
    statusLine.textContent = text;
    statusLine.className = `status ${kind ?? ""}`;
  }

  const ONLINE = "online · nothing leaves this machine";
  const ACTIONS = {
    typing: "typing…",
    upload_photo: "sending a photo…",
    upload_document: "sending a file…",
    upload_voice: "sending a voice message…",
    record_voice: "recording a voice message…",
  };

  function showAction(action) {
    setStatus(ACTIONS[action] ?? `${action.replaceAll("_", " ")}…`, "live");
    clearTimeout(actionTimer);
    // Telegram shows a chat action for five seconds or until the next message.
    actionTimer = setTimeout(() => setStatus(ONLINE, "live"), 5000);
  }

  function showToast(text, alert) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, alert ? 6000 : 2500);
  }

  function showMenu(open) {
    menu.hidden = !open;
    menuButton.setAttribute("aria-expanded", String(open));
  }
  menuButton.addEventListener("click", () => showMenu(menu.hidden));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") showMenu(false); });
  document.addEventListener("click", (e) => {
    if (!menu.hidden && !menu.contains(e.target) && e.target !== menuButton) showMenu(false);
  });

  // -- skip ahead: the bot's clock moved forward (a morning, a Sunday evening) -------------

  const skipButton = $("skip-button");
  const skipMenu = $("skip-menu");

  function showSkipMenu(open) {
    skipMenu.hidden = !open;
    skipButton.setAttribute("aria-expanded", String(open));
  }
  skipButton.addEventListener("click", () => showSkipMenu(skipMenu.hidden));
  document.addEventListener("click", (e) => {
    if (!skipMenu.hidden && !skipMenu.contains(e.target) && e.target !== skipButton) {
      showSkipMenu(false);
    }
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") showSkipMenu(false); });
  for (const choice of skipMenu.querySelectorAll("button[data-skip]")) {
    choice.addEventListener("click", async () => {
      showSkipMenu(false);
      stickToBottom = true;
      const answer = await post("/api/skip", { to: choice.dataset.skip });
      if (answer.ok) showToast(`Bot time: ${answer.now}`, true);
    });
  }

  // -- Mini Apps ------------------------------------------------------------------------
  // Opened over the chat as Telegram opens them on a phone: a thin bar with the bot's name
  // and Close, and a frame of the Mini App's launch address (its URL, then #tgWebAppData=
  // ...), which the server asks the emulator to sign: the page never sees the bot's token.

  let webappOpener = null;

  function darkMode() {
    return window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  async function openWebApp(url, opener) {
    const answer = await post("/api/webapp", { url, color_scheme: darkMode() ? "dark" : "light" });
    if (!answer.ok) return;
    $("webapp-frame")?.remove(); // one Mini App at a time, as in Telegram
    const frame = document.createElement("iframe");
    frame.id = "webapp-frame";
    frame.title = `Mini App of ${botName}`;
    // What a Mini App may use here: its own origin's storage and requests, sound that starts
    // on a tap, and keeping the screen on.
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-modals");
    frame.allow = "autoplay; screen-wake-lock";
    frame.src = answer.url;
    webappBody.append(frame);
    $("webapp-title").textContent = botName;
    webappOpener = opener ?? null;
    webapp.hidden = false;
    $("webapp-close").focus();
  }

  // Telegram's web client tells the Mini App it is hidden before taking it away (the
  // visibility_changed event of telegram-web-app.js, which it reports as "deactivated"); the
  // frame goes a moment later, so the page also gets its own pagehide.
  function closeWebApp() {
    const frame = $("webapp-frame");
    webapp.hidden = true;
    if (frame) {
      const hidden = { eventType: "visibility_changed", eventData: { is_visible: false } };
      frame.contentWindow?.postMessage(JSON.stringify(hidden), "*");
      setTimeout(() => frame.remove(), 150);
    }
    webappOpener?.focus();
    webappOpener = null;
  }
  $("webapp-close").addEventListener("click", closeWebApp);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !webapp.hidden) closeWebApp();
  });
  // A Mini App may close itself: Telegram.WebApp.close() posts web_app_close to its parent.
  window.addEventListener("message", (e) => {
    const frame = $("webapp-frame");
    if (!frame || e.source !== frame.contentWindow || typeof e.data !== "string") return;
    let event;
    try {
      event = JSON.parse(e.data);
    } catch {
      return;
    }
    if (event?.eventType === "web_app_close") closeWebApp();
  });

  // -- talking to the server ------------------------------------------------------------

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({ ok: false, error: response.statusText }));
    if (!answer.ok) showToast(answer.error ?? "Something went wrong", false);
    return answer;
  }

  function send(text) {
    stickToBottom = true;
    return post("/api/send", { text });
  }

  // The browser knows where it is (asked with the usual permission prompt); without that,
  // the bot still takes a zone by name.
  function shareLocation() {
    const unavailable = () =>
      showToast("Location is unavailable here; send e.g. /timezone Europe/Berlin", true);
    if (!navigator.geolocation) return unavailable();
    navigator.geolocation.getCurrentPosition(
      ({ coords }) => {
        stickToBottom = true;
        post("/api/location", { latitude: coords.latitude, longitude: coords.longitude });
      },
      unavailable,
      { timeout: 10000 },
    );
  }

  async function tap(button, messageId, data) {
    button.disabled = true;
    try {
      await post("/api/tap", { message_id: messageId, data });
    } finally {
      // A redraw usually replaces the button; if the bot changed nothing, it comes back.
      setTimeout(() => { button.disabled = false; }, 800);
    }
  }

  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    await send(text);
    input.focus();
  });

  function handle(event) {
    switch (event.type) {
      case "state": drawState(event); break;
      case "message":
        upsert(event.message);
        drawReplyKeyboard(event.reply_keyboard);
        if (event.message.from_bot) setStatus(ONLINE, "live");
        break;
      case "delete": remove(event.id); break;
      case "commands": drawCommands(event.commands); break;
      case "menu_button": drawMenuButton(event.menu_button); break;
      case "toast": showToast(event.text, event.alert); break;
      case "action": showAction(event.action); break;
    }
  }

  // The stream starts with the whole state, so a reconnect redraws everything it missed.
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => setStatus(ONLINE, "live"));
  events.addEventListener("message", (e) => handle(JSON.parse(e.data)));
  events.addEventListener("error", () => {
    setStatus("disconnected · is the playground still running? retrying…", "down");
  });
})();
