// The player: a practice followed on a mat, phone propped two metres away.
//
// The server owns the practice (its step, its deadline, its pause); this page shows the View
// it answers, counts the hold down locally between answers, and asks again when the hold is
// over, every 30 s, and whenever the page comes back into view. No build step, no
// dependencies: an ES module served as it is, under a CSP without inline code or styles.

const BEAT_MS = 10_000; // "the player is open and visible"
const POLL_MS = 30_000; // another device or the chat may have changed the practice
const TICK_MS = 200; // the countdown, the ring and the cue line
const AT_ZERO_RETRY_MS = 500; // the server moves on at its deadline, a moment after ours
const AT_ZERO_SLOW_MS = 2_000; // ...and if it has not after a good few asks, less often
const UNAVAILABLE_RETRY_MS = 3_000; // 503 or no connection: try again after a few seconds
const RETRY_AFTER_MAX_S = 30;
const CHIME_BEFORE_END_S = 10;
const VOICE_AFTER_CHIME_MS = 700; // the chime first, then the spoken cue
const MORE_TIME = "+15 s";

const tg = window.Telegram?.WebApp ?? null;
const launch = new URLSearchParams(location.hash.slice(1));
const initData = tg?.initData || launch.get("tgWebAppData") || "";
const root = document.documentElement;
const $ = (id) => document.getElementById(id);

const ui = {
  screen: $("screen"),
  loading: $("loading"),
  card: $("card"),
  cardTitle: $("card-title"),
  cardText: $("card-text"),
  cardActions: $("card-actions"),
  practice: $("practice"),
  picture: $("picture"),
  progress: $("progress"),
  mute: $("btn-mute"),
  ring: $("ring"),
  ringBar: $("ring-bar"),
  ringLabel: $("ring-label"),
  countdown: $("countdown"),
  title: $("pose-title"),
  sanskrit: $("sanskrit"),
  easierTag: $("easier-tag"),
  easierText: $("easier-text"),
  flow: $("flow"),
  cue: $("cue-line"),
  cueStack: $("cue-stack"),
  next: $("next-line"),
  question: $("question"),
  questionText: $("question-text"),
  questionAdvice: $("question-advice"),
  answers: $("answers"),
  controls: $("controls"),
  pause: $("btn-pause"),
  more: $("btn-more"),
  nextButton: $("btn-next"),
  easier: $("btn-easier"),
  hurt: $("btn-hurt"),
  end: $("btn-end"),
  wakeNote: $("wakelock-note"),
  notice: $("notice"),
  voice: $("voice"),
};

const state = {
  view: null, // the View on screen
  receivedAt: 0, // performance.now() when it arrived: `left` counts from here
  seq: 0, // every request is numbered...
  actSeq: 0, // ...and a poll started before the latest press is not shown over its answer
  busy: false, // a press is on its way: a second tap does nothing
  polling: false,
  atZero: false,
  lastLeft: null, // for the chime ten seconds before the end
  cueIndex: -1,
  fatal: false, // 401/403: nothing more to ask
  away: false, // told the server we left; the practice is paused there
  voiceSrc: null,
  voicePending: false, // a cue to speak once the page may play sound
  unlocked: false,
  muted: readMuted(),
  audio: null, // the AudioContext of the chime
  wakeLock: null,
  wakePending: false,
  timers: { tick: 0, poll: 0, beat: 0 },
};

// -- Telegram: launch parameters, theme, events ------------------------------------------------

function themeParams() {
  if (tg?.themeParams && Object.keys(tg.themeParams).length) return tg.themeParams;
  try {
    return JSON.parse(launch.get("tgWebAppThemeParams") || "null");
  } catch {
    return null;
  }
}

function applyTheme(params) {
  let dark = null;
  if (params && typeof params === "object") {
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== "string" || !/^#[0-9a-f]{3,8}$/i.test(value)) continue;
      root.style.setProperty(`--tg-theme-${key.replaceAll("_", "-")}`, value);
    }
    // The page's own colours (ring, hurt, pictures) follow Telegram's theme.
    dark = typeof params.bg_color === "string" ? isDark(params.bg_color) : null;
  }
  // Without a theme from Telegram, the system's.
  if (dark === null) dark = window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  root.dataset.theme = dark ? "dark" : "light";
}

function isDark(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = [...h].map((c) => c + c).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5;
}

// Without Telegram's script, Telegram's web client (and the playground) talk to the page by
// postMessage: the same protocol the script speaks.
function postToTelegram(eventType, eventData = {}) {
  if (window.parent === window) return;
  try {
    window.parent.postMessage(JSON.stringify({ eventType, eventData }), "*");
  } catch {
    // nobody listening
  }
}

function connectTelegram() {
  applyTheme(themeParams());
  if (tg) {
    tg.ready?.();
    tg.expand?.();
    // A knee or a hand on the screen must not swipe the player shut.
    if (tg.isVersionAtLeast?.("7.7")) tg.disableVerticalSwipes?.();
    tg.onEvent?.("themeChanged", () => applyTheme(tg.themeParams));
    tg.onEvent?.("deactivated", () => leave("fetch"));
    tg.onEvent?.("activated", () => comeBack());
    return;
  }
  postToTelegram("web_app_ready");
  postToTelegram("web_app_expand");
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || typeof event.data !== "string") return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message?.eventType === "visibility_changed") {
      if (message.eventData?.is_visible) comeBack();
      else leave("fetch");
    } else if (message?.eventType === "theme_changed") {
      applyTheme(message.eventData?.theme_params);
    }
  });
}

function haptic() {
  if (tg?.HapticFeedback && tg.isVersionAtLeast?.("6.1")) {
    tg.HapticFeedback.impactOccurred("light");
  } else if (navigator.vibrate && navigator.userActivation?.hasBeenActive) {
    navigator.vibrate(30);
  }
}

function closePlayer() {
  if (tg?.close) {
    tg.close();
    return;
  }
  // Telegram's web client (and the playground) close the frame when asked; a page opened
  // on its own has nothing to close.
  postToTelegram("web_app_close");
}

// -- the API -----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function apiUrl(name) {
  return new URL(`api/${name}`, document.baseURI);
}

function retryAfter(response) {
  const seconds = Number(response.headers.get("Retry-After"));
  if (!Number.isFinite(seconds) || seconds < 0) return 1_000;
  return Math.min(seconds, RETRY_AFTER_MAX_S) * 1_000;
}

// One call: {seq, view} on success or 409, {seq, fatal} on 401/403, {seq, failed} otherwise.
// 429 waits for Retry-After and tries once more; 503 (or no answer) tries again after a few
// seconds, up to `retries` times, while the countdown goes on.
async function call(name, fields = {}, { retries = 0 } = {}) {
  const seq = ++state.seq;
  const body = JSON.stringify({ init_data: initData, ...fields });
  let slowedDown = false;
  for (let attempt = 0; ; attempt += 1) {
    let response = null;
    let payload = null;
    try {
      response = await fetch(apiUrl(name), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
        cache: "no-store",
        credentials: "omit",
      });
      if (response.status !== 204) payload = await response.json().catch(() => null);
    } catch {
      response = null;
    }
    if (state.fatal) return { seq, failed: true };
    const status = response?.status ?? 0;
    if (status === 204) {
      hideNotice();
      return { seq, ok: true };
    }
    if (response?.ok && payload?.screen) {
      hideNotice();
      return { seq, view: payload };
    }
    if (status === 409 && payload?.view?.screen) {
      hideNotice();
      return { seq, view: payload.view };
    }
    if (status === 401) return { seq, fatal: "unauthorized" };
    if (status === 403) return { seq, fatal: "forbidden" };
    if (status === 429 && !slowedDown) {
      slowedDown = true;
      await sleep(retryAfter(response));
      continue;
    }
    if (status === 0 || status === 502 || status === 503 || status === 504) {
      if (attempt < retries) {
        showNotice("Reconnecting…");
        await sleep(UNAVAILABLE_RETRY_MS);
        continue;
      }
      showNotice("No connection. Trying again soon.");
      return { seq, failed: true };
    }
    console.warn(`player: ${name} answered ${status}`);
    return { seq, failed: true };
  }
}

// A press (or a way in): its answer always shows, unless another press came after it.
async function press(name, fields, button) {
  if (state.busy || state.fatal) return;
  state.busy = true;
  state.away = false; // a tap: whoever it is, is here
  button?.classList.add("is-pressed");
  const seq = state.seq + 1;
  state.actSeq = seq;
  try {
    const result = await call(name, fields, { retries: 4 });
    if (result.fatal) showFatal(result.fatal);
    else if (result.view && result.seq === state.actSeq) show(result.view);
    else if (result.failed) showNotice("That did not go through. Please tap again.");
  } finally {
    state.busy = false;
    button?.classList.remove("is-pressed");
  }
}

// A question of what is on now: shown unless a press was made since it was asked.
async function refresh({ retries = 2 } = {}) {
  if (state.polling || state.fatal) return;
  state.polling = true;
  try {
    const result = await call("state", {}, { retries });
    if (result.fatal) showFatal(result.fatal);
    else if (result.view && result.seq > state.actSeq && !state.busy) show(result.view);
  } finally {
    state.polling = false;
  }
}

function act(action, button) {
  const view = state.view;
  if (view?.screen !== "practice") return;
  unlockAudio();
  press("act", { practice: view.practice, step: view.step, action }, button);
}

function begin(answer, button) {
  unlockAudio();
  press("begin", { answer }, button);
}

// -- showing a View ----------------------------------------------------------------------------

const SCREENS = {
  start: showStart,
  safety: showSafety,
  no_class: showNoClass,
  checkin: showCheckin,
  gate: showGate,
  in_chat: showInChat,
  practice: showPractice,
  summary: showSummary,
};

function show(view) {
  const previous = state.view;
  // An older answer about the same practice (the versions only grow) never goes back.
  if (
    previous?.screen === "practice" &&
    view.screen === "practice" &&
    previous.practice === view.practice &&
    view.version < previous.version
  ) {
    return;
  }
  const render = SCREENS[view.screen];
  if (!render) {
    console.warn(`player: unknown screen ${view.screen}`);
    return;
  }
  state.view = view;
  state.receivedAt = performance.now();
  render(view, previous);
  schedule();
}

function setScreen(name, { practice = false } = {}) {
  ui.screen.dataset.screen = name;
  root.dataset.screen = name;
  ui.loading.hidden = true;
  ui.card.hidden = practice;
  ui.practice.hidden = !practice;
  if (!practice) {
    delete root.dataset.step;
    delete root.dataset.version;
    stopVoice();
    releaseScreen();
  }
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// A button for the bottom of a card: `kind` is primary, secondary, quiet or warn.
function button(label, onTap, { id, kind = "secondary", dataset } = {}) {
  const node = el("button", { type: "button", id, className: `btn btn-${kind}`, dataset }, label);
  node.addEventListener("click", () => onTap(node));
  return node;
}

// Every screen but the practice: a heading, a few short paragraphs or lists, the answers.
function card(name, { title, text = [], actions = [], note = null, variant = "" }) {
  setScreen(name);
  ui.card.className = `card ${variant}`.trim();
  ui.cardTitle.textContent = title;
  ui.cardText.replaceChildren(
    ...text.filter(Boolean).map((part) => (typeof part === "string" ? el("p", {}, part) : part)),
  );
  const notes = note ? [el("p", { className: "card-note" }, note)] : [];
  ui.cardActions.replaceChildren(...notes, ...actions);
  ui.card.scrollTop = 0;
}

function signs(list, className = "") {
  const items = (list || []).map((sign) => el("li", {}, sign));
  return el("ul", { className: `signs ${className}`.trim() }, items);
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function showStart(view) {
  const about = [
    view.minutes ? `About ${view.minutes} min` : null,
    view.poses ? plural(view.poses, "pose", "poses") : null,
  ]
    .filter(Boolean)
    .join(" · ");
  card("start", {
    title: view.class_title || "Today's class",
    text: [
      el("p", { className: "lead" }, about),
      "Lay out your mat, and prop your phone where you can see it.",
      "Move only as far as feels fine. If anything hurts, tap It hurts.",
    ],
    actions: [
      button("Start", (b) => begin({ start: true }, b), { id: "btn-start", kind: "primary" }),
    ],
    variant: "card-start",
  });
}

function showSafety(view) {
  card("safety", {
    title: "Before we start: do any of these apply to you?",
    text: [
      signs(view.emergency_signs, "signs-emergency"),
      signs(view.other_signs),
    ],
    note:
      "If a clinician has already checked this and said gentle exercise is fine, " +
      "choose None of these.",
    actions: [
      button("None of these", (b) => begin({ screen: "none" }, b), {
        id: "btn-none",
        kind: "primary",
      }),
      button("I have one of these", () => showSafetyFollowUp(view), { id: "btn-have-one" }),
    ],
    variant: "card-long",
  });
}

// Page-local: which kind of sign it is decides between "urgent care now" and "see a GP".
function showSafetyFollowUp(view) {
  card("safety_follow_up", {
    title: "Is it one of these?",
    text: [signs(view.emergency_signs, "signs-emergency")],
    actions: [
      button("Yes, one of these", (b) => begin({ screen: "emergency" }, b), {
        id: "btn-yes",
        kind: "warn",
      }),
      button("No, something else", (b) => begin({ screen: "other" }, b), { id: "btn-no" }),
      button("Back", () => showSafety(view), { id: "btn-back", kind: "quiet" }),
    ],
  });
}

function showNoClass(view) {
  const close = button("Close", closePlayer, { id: "btn-close", kind: "primary" });
  if (view.reason === "urgent") {
    const call =
      view.call ||
      "call your local emergency number or go to the nearest emergency department";
    card("no_class", {
      title: `Please get urgent medical care now: ${call}.`,
      text: ["These signs need a doctor today, so there is no class today. Take care."],
      actions: [close],
      variant: "card-urgent",
    });
  } else if (view.reason === "see_clinician") {
    card("no_class", {
      title: "Please see a GP or clinician before doing these exercises.",
      text: ["For today, rest, or lie in a comfortable position and breathe slowly."],
      actions: [close],
    });
  } else {
    card("no_class", {
      title: "Rest today.",
      text: [el("p", { className: "lead" }, "Gentle walking helps. See you tomorrow.")],
      actions: [close],
    });
  }
  ui.card.dataset.reason = view.reason || "";
}

function showCheckin() {
  const scores = Array.from({ length: 11 }, (_, n) =>
    button(String(n), (b) => begin({ score: n }, b), {
      kind: "score",
      dataset: { score: String(n) },
    }),
  );
  card("checkin", {
    title: "How is your back right now?",
    text: [
      el("p", { className: "lead" }, "0 = no pain, 10 = worst."),
      el("div", { className: "scores" }, scores),
    ],
    actions: [button("Skip", (b) => begin({ score: null }, b), { id: "btn-skip", kind: "quiet" })],
  });
}

const GATES = {
  suggest_gentle: {
    title: "Your back felt worse after last time. A gentle class?",
    gentle: "Gentle class",
    other: { label: "Usual class", id: "btn-usual-class", gentle: false },
  },
  sore_day: {
    title: "A sore day. A gentle class, or rest today?",
    gentle: "Gentle class",
    other: { label: "Not today", id: "btn-not-today" },
  },
  rest_day: {
    title: "Rest is best today. Gentle walking helps.",
    gentle: "Gentle class anyway",
    other: { label: "Not today", id: "btn-not-today", first: true },
  },
};

function showGate(view) {
  const gate = GATES[view.gate] || GATES.sore_day;
  const score = view.score ?? null;
  const gentle = button(gate.gentle, (b) => begin({ score, gentle: true }, b), {
    id: "btn-gentle",
    kind: gate.other.first ? "secondary" : "primary",
  });
  const other =
    gate.other.gentle === false
      ? button(gate.other.label, (b) => begin({ score, gentle: false }, b), { id: gate.other.id })
      : button(gate.other.label, (b) => notToday(score, b), {
          id: gate.other.id,
          kind: gate.other.first ? "primary" : "secondary",
        });
  card("gate", {
    title: gate.title,
    text:
      view.score === null || view.score === undefined
        ? []
        : [el("p", { className: "lead" }, `Your back today: ${view.score} of 10.`)],
    actions: gate.other.first ? [other, gentle] : [gentle, other],
  });
}

// "Not today" is said to the server when it takes it; the rest-day advice shows either way.
async function notToday(score, buttonNode) {
  if (state.busy) return;
  state.busy = true;
  buttonNode.classList.add("is-pressed");
  const seq = state.seq + 1;
  state.actSeq = seq;
  try {
    const result = await call("begin", { answer: { score, not_today: true } });
    if (result.fatal) showFatal(result.fatal);
    else if (result.view && result.seq === state.actSeq) show(result.view);
    else show({ screen: "no_class", reason: "not_today", call: "" });
  } finally {
    state.busy = false;
    buttonNode.classList.remove("is-pressed");
  }
}

function showInChat(view) {
  card("in_chat", {
    title: "Your class is running in the chat.",
    text: [
      el("p", { className: "lead" }, `Pose ${view.step + 1} of ${view.total}: ${view.title}.`),
    ],
    actions: [
      button(
        "Continue in the player",
        (b) => {
          unlockAudio();
          press("play", { practice: view.practice }, b);
        },
        { id: "btn-continue", kind: "primary" },
      ),
    ],
  });
}

function stat(value, label) {
  return el(
    "div",
    { className: "stat" },
    el("span", { className: "stat-value" }, value),
    el("span", { className: "stat-label" }, label),
  );
}

function showSummary(view) {
  const minutes = view.minutes < 1 ? "<1" : String(view.minutes);
  const stats = el(
    "div",
    { className: "stats" },
    stat(minutes, view.minutes === 1 ? "minute" : "minutes"),
    stat(`${view.poses_done}/${view.total_poses}`, "poses held"),
  );
  const easier = view.easier_used
    ? `You chose the easier way ${plural(view.easier_used, "time", "times")}: ` +
      "that is listening well."
    : null;
  const close = button("Close", closePlayer, { id: "btn-close", kind: "primary" });
  if (view.status === "finished" && view.rushed) {
    // Tapped through well under its holds: said kindly, and as it was.
    card("summary", {
      title: "You reached the end",
      text: [
        stats,
        `At your pace the class takes about ${view.planned_minutes} min. ` +
          "Next time, if it feels fine, stay a few breaths in each pose: " +
          "the holds are where the back gets stronger.",
      ],
      actions: [close],
      variant: "card-summary",
    });
  } else if (view.status === "finished") {
    card("summary", {
      title: "Well done 🌿",
      text: [
        stats,
        easier,
        "Stay in your rest as long as you like, then get up slowly. " +
          "Notice how your back feels now.",
      ],
      actions: [close],
      variant: "card-summary",
    });
  } else if (view.stop_reason === "for_pain") {
    card("summary", {
      title: "Ended for today.",
      text: [
        stats,
        "Rest, and move gently today. If the pain is severe, new or getting worse, " +
          "please see a GP or physiotherapist.",
      ],
      actions: [close],
      variant: "card-summary",
    });
  } else {
    card("summary", {
      title: "Practice ended.",
      text: [stats, "Thank you for practising. See you next time."],
      actions: [close],
      variant: "card-summary",
    });
  }
  ui.card.dataset.status = view.status;
}

function showFatal(kind) {
  state.fatal = true;
  stopTimers();
  const close = button("Close", closePlayer, { id: "btn-close", kind: "primary" });
  if (kind === "forbidden") {
    card("forbidden", {
      title: "This class is not yours.",
      text: ["Open the player again from the chat."],
      actions: [close],
    });
  } else {
    card("unauthorized", {
      title: "Open the player again from the chat.",
      actions: [close],
    });
  }
}

function showNoAnswer() {
  card("unavailable", {
    title: "The coach is not answering right now.",
    text: ["Check your connection, then try again."],
    actions: [
      button(
        "Try again",
        () => {
          setLoading();
          start();
        },
        { id: "btn-retry", kind: "primary" },
      ),
    ],
  });
}

function setLoading() {
  ui.card.hidden = true;
  ui.practice.hidden = true;
  ui.loading.hidden = false;
  ui.screen.dataset.screen = "loading";
}

// -- the practice --------------------------------------------------------------------------------

const QUESTIONS = {
  hurt: (view) => ({
    text: "Let's ease off. How would you like to go on?",
    answers: [
      [
        view.easier?.shown ? "Try again, gently" : "Try the easier version",
        "try_easier",
        "primary",
      ],
      ["Skip this pose", "skip", "secondary"],
      ["End for today", "end_for_pain", "quiet"],
    ],
  }),
  numb: () => ({
    text: "Numbness or tingling: stop this pose.",
    advice: "Come out of it gently and rest. If it does not pass, see a GP.",
    answers: [
      ["End for today", "end_for_pain", "primary"],
      ["It has passed, next pose", "passed", "secondary"],
    ],
  }),
  stop: () => ({
    text: "End the class?",
    answers: [
      ["End practice", "end", "warn"],
      ["Keep going", "keep_going", "primary"],
    ],
  }),
  // The chat asked "continue or start over?" (a new class was asked for there): only the
  // chat can answer it; pain can always be said.
  restart: () => ({
    text: "Your class is paused.",
    advice: "Continue or start over in the chat.",
    answers: [
      ["Go to the chat", null, "primary"],
      ["It hurts", "hurt", "hurt"],
    ],
  }),
};

// Paused (here or by leaving): said large over the picture, for the person on the mat.
function markPaused() {
  const view = state.view;
  const paused =
    view?.screen === "practice" && !view.question && (view.status === "paused" || state.away);
  ui.practice.classList.toggle("is-paused", paused);
}

function running(view) {
  return view?.screen === "practice" && view.status === "active" && !view.question && !state.away;
}

// Seconds left now: counted down from `left` as it arrived, frozen while paused or asking.
function leftNow() {
  const view = state.view;
  if (view?.screen !== "practice") return 0;
  const left = Number(view.left) || 0;
  if (!running(view)) return Math.max(0, left);
  return Math.max(0, left - (performance.now() - state.receivedAt) / 1000);
}

function cueLines(view) {
  const lines = [view.bridge, ...(view.lines || [])];
  return lines.filter((line) => typeof line === "string" && line.trim());
}

function showPractice(view, previous) {
  const samePractice = previous?.screen === "practice" && previous.practice === view.practice;
  const newStep = !samePractice || previous.step !== view.step;
  setScreen("practice", { practice: true });
  root.dataset.step = String(view.step);
  root.dataset.version = String(view.version);
  markPaused();
  ui.practice.classList.toggle("is-asking", Boolean(view.question));

  ui.progress.textContent = `Pose ${view.step + 1} of ${view.total}`;
  showPicture(view.picture, view.title);
  ui.title.textContent = view.title;
  ui.title.classList.toggle("is-long", view.title.length > 20);
  ui.sanskrit.textContent = view.sanskrit || "";
  ui.sanskrit.hidden = !view.sanskrit;
  const easierShown = Boolean(view.easier?.shown);
  ui.easierTag.hidden = !easierShown;
  ui.easierText.hidden = !(easierShown && view.easier?.text);
  ui.easierText.textContent = easierShown ? view.easier?.text || "" : "";
  ui.next.textContent = view.next ? `Next: ${view.next}` : view.last ? "Last pose" : "";

  const lines = cueLines(view);
  const sized = [...ui.cueStack.querySelectorAll(".cue-sizer")].map((node) => node.textContent);
  if (newStep || sized.join("\n") !== lines.join("\n")) {
    state.cueIndex = -1;
    ui.cueStack.replaceChildren(
      ...lines.map((line) =>
        el("p", { className: "cue-line cue-sizer", "aria-hidden": "true" }, line),
      ),
      ui.cue,
    );
  }
  state.lastLeft = Number(view.left) || 0;
  showControls(view);
  showQuestion(view);
  tick();

  // A new pose: the chime, a tick on the hand, and its spoken cue; an easier version swaps
  // the spoken cue too.
  const chimed = newStep && previous !== null;
  if (chimed) signal();
  if (newStep || view.sound !== state.voiceSrc) loadVoice(view.sound);
  if (!running(view)) ui.voice.pause();
  else if (chimed) playVoiceAfterChime();
  else playVoice();
  holdScreen();
}

function showPicture(src, title) {
  const frame = ui.picture.parentElement;
  if (!src) {
    frame.dataset.picture = "none";
    ui.picture.removeAttribute("src");
    ui.picture.alt = "";
    return;
  }
  frame.dataset.picture = "yes";
  const url = new URL(src, document.baseURI).href;
  if (ui.picture.src !== url) ui.picture.src = url;
  ui.picture.alt = title || "";
}

function showControls(view) {
  const paused = view.status === "paused";
  ui.pause.textContent = paused ? "Resume" : "Pause";
  ui.pause.dataset.action = paused ? "resume" : "pause";
  ui.more.textContent = MORE_TIME;
  ui.nextButton.textContent = view.last ? "Finish" : "Next";
  const easier = view.easier || {};
  if (easier.shown && easier.can_take_back) {
    ui.easier.textContent = "Usual";
    ui.easier.dataset.action = "usual";
    ui.easier.disabled = false;
  } else {
    ui.easier.textContent = "Easier";
    ui.easier.dataset.action = "easier";
    // Already easier with no way back (a gentle class), or a pose with no easier version.
    ui.easier.disabled = Boolean(easier.shown) || !easier.text;
  }
  ui.easier.classList.toggle("is-on", Boolean(easier.shown));
}

function showQuestion(view) {
  const ask = view.question ? QUESTIONS[view.question] : null;
  ui.question.hidden = !ask;
  ui.controls.hidden = Boolean(ask);
  ui.flow.hidden = Boolean(ask);
  if (!ask) {
    ui.answers.replaceChildren();
    delete ui.question.dataset.key;
    return;
  }
  const { text, advice, answers } = ask(view);
  // The same question asked again (a poll) keeps its buttons: a tap landing as the answer
  // arrives must not fall between an old button and a new one.
  const key = JSON.stringify([view.practice, view.step, view.question, answers]);
  if (ui.question.dataset.key === key) return;
  ui.question.dataset.key = key;
  ui.question.dataset.question = view.question;
  ui.questionText.textContent = text;
  ui.questionAdvice.textContent = advice || "";
  ui.questionAdvice.hidden = !advice;
  ui.answers.replaceChildren(
    ...answers.map(([label, action, kind]) =>
      action
        ? button(label, (b) => act(action, b), { kind, dataset: { action } })
        : button(label, closePlayer, { id: "btn-to-chat", kind }),
    ),
  );
}

function tick() {
  const view = state.view;
  if (view?.screen !== "practice") return;
  const left = leftNow();
  const hold = Math.max(Number(view.hold) || 0, left, 0.001);
  const seconds = Math.ceil(left - 0.001);
  const text = String(Math.max(0, seconds));
  if (ui.countdown.textContent !== text) {
    ui.countdown.textContent = text;
    ui.countdown.classList.toggle("is-long", text.length > 2);
  }
  ui.ringBar.style.strokeDashoffset = String(100 - (100 * left) / hold);
  ui.ringLabel.textContent = running(view) ? "sec" : "paused";

  const lines = cueLines(view);
  const index = lines.length
    ? Math.min(lines.length - 1, Math.max(0, Math.floor(((hold - left) / hold) * lines.length)))
    : -1;
  if (index !== state.cueIndex) {
    state.cueIndex = index;
    ui.cue.textContent = index >= 0 ? lines[index] : "";
    ui.cue.classList.remove("is-new");
    void ui.cue.offsetWidth; // restart the fade-in
    ui.cue.classList.add("is-new");
  }

  if (running(view)) {
    const crossed = state.lastLeft > CHIME_BEFORE_END_S && left <= CHIME_BEFORE_END_S;
    if (crossed && left > 0) signal();
    if (left <= 0 && !state.atZero) askAtZero();
  }
  state.lastLeft = left;
}

// The hold is over here: the server moves on at its deadline. Ask until it has.
async function askAtZero() {
  const { practice, step } = state.view;
  state.atZero = true;
  try {
    for (let asked = 0; !state.fatal; asked += 1) {
      await refresh({ retries: 0 });
      const view = state.view;
      const stillHere =
        view?.screen === "practice" && view.practice === practice && view.step === step;
      if (!stillHere || !running(view) || leftNow() > 0 || document.hidden) return;
      await sleep(asked < 20 ? AT_ZERO_RETRY_MS : AT_ZERO_SLOW_MS);
    }
  } finally {
    state.atZero = false;
  }
}

function wireControls() {
  for (const node of [ui.pause, ui.more, ui.nextButton, ui.easier, ui.hurt, ui.end]) {
    node.addEventListener("click", () => act(node.dataset.action, node));
  }
  ui.more.dataset.action = "more_time";
  ui.nextButton.dataset.action = "next";
  ui.hurt.dataset.action = "hurt";
  ui.end.dataset.action = "stop";
  ui.mute.addEventListener("click", () => setMuted(!state.muted));
  setMuted(state.muted);
}

// -- timers: the tick, the poll, the heartbeat ------------------------------------------------

function schedule() {
  const screen = state.view?.screen;
  const practice = screen === "practice";
  const watching = practice || screen === "in_chat";
  if (practice && !state.timers.tick) state.timers.tick = setInterval(tick, TICK_MS);
  if (!practice && state.timers.tick) state.timers.tick = clearInterval(state.timers.tick) ?? 0;
  if (watching && !state.timers.poll) {
    state.timers.poll = setInterval(() => {
      if (!document.hidden && !state.busy) refresh();
    }, POLL_MS);
  }
  if (!watching && state.timers.poll) state.timers.poll = clearInterval(state.timers.poll) ?? 0;
  if (practice && !state.timers.beat) {
    beat();
    state.timers.beat = setInterval(beat, BEAT_MS);
  }
  if (!practice && state.timers.beat) state.timers.beat = clearInterval(state.timers.beat) ?? 0;
}

function stopTimers() {
  for (const key of Object.keys(state.timers)) {
    clearInterval(state.timers[key]);
    state.timers[key] = 0;
  }
  stopVoice();
  releaseScreen();
}

function beat() {
  const view = state.view;
  if (view?.screen !== "practice" || document.hidden || state.away || state.fatal) return;
  call("beat", { practice: view.practice });
}

// -- away and back ---------------------------------------------------------------------------

// The page was hidden, closed or deactivated: the server pauses the practice, and the chat
// offers to carry on. Said once per absence; a beacon when the page may be going for good.
function leave(how) {
  const view = state.view;
  if (state.fatal || state.away || view?.screen !== "practice") return;
  // Frozen where it is now, not where it was when the View arrived.
  state.view = { ...view, left: leftNow() };
  state.receivedAt = performance.now();
  state.away = true;
  markPaused();
  ui.voice.pause();
  tick();
  const fields = { practice: view.practice };
  if (how === "beacon" && navigator.sendBeacon) {
    const json = JSON.stringify({ init_data: initData, ...fields });
    navigator.sendBeacon(apiUrl("away"), new Blob([json], { type: "application/json" }));
    return;
  }
  call("away", fields).then((result) => {
    if (result.fatal) showFatal(result.fatal);
    // Still away: show the paused practice; back already: the state asked on return wins.
    else if (result.view && state.away && result.seq > state.actSeq) show(result.view);
  });
}

function comeBack() {
  if (state.fatal || document.hidden) return;
  state.away = false;
  markPaused();
  holdScreen();
  // Only what runs on its own may have changed meanwhile; an answer half-given stays.
  if (["practice", "in_chat"].includes(state.view?.screen)) refresh();
}

function watchVisibility() {
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) leave("beacon");
    else comeBack();
  });
  window.addEventListener("pagehide", () => leave("beacon"));
}

// -- sound: the spoken cue, the chime --------------------------------------------------------

function readMuted() {
  try {
    return localStorage.getItem("player.muted") === "1";
  } catch {
    return false;
  }
}

function setMuted(muted) {
  state.muted = muted;
  ui.voice.muted = muted;
  ui.mute.textContent = muted ? "Sound off" : "Sound on";
  ui.mute.setAttribute("aria-pressed", String(muted));
  ui.mute.classList.toggle("is-off", muted);
  try {
    localStorage.setItem("player.muted", muted ? "1" : "0");
  } catch {
    // private mode: muted for this visit only
  }
}

// The first tap (Start, Continue, Resume, any button) lets the page play sound from then on.
function unlockAudio() {
  if (!state.unlocked) {
    state.unlocked = true;
    if (!ui.voice.getAttribute("src")) ui.voice.load();
  }
  if (!state.audio && (window.AudioContext || window.webkitAudioContext)) {
    try {
      state.audio = new (window.AudioContext || window.webkitAudioContext)();
    } catch {
      state.audio = null;
    }
  }
  if (state.audio?.state === "suspended") state.audio.resume().catch(() => {});
  if (state.voicePending && running(state.view)) playVoice();
}

// A new cue to speak: it plays once the practice runs (and sound is allowed).
function loadVoice(src) {
  if (!src) {
    stopVoice();
    return;
  }
  state.voiceSrc = src;
  ui.voice.src = new URL(src, document.baseURI).href;
  state.voicePending = true;
}

function playVoiceAfterChime() {
  const expected = ui.voice.src;
  setTimeout(() => {
    if (ui.voice.src === expected && running(state.view)) playVoice();
  }, VOICE_AFTER_CHIME_MS);
}

function playVoice() {
  if (!state.voiceSrc || !state.voicePending) {
    // Resumed mid-cue: carry on where it was.
    if (state.voiceSrc && ui.voice.paused && !ui.voice.ended && ui.voice.currentTime > 0) {
      ui.voice.play().catch(() => {});
    }
    return;
  }
  state.voicePending = false;
  ui.voice.play().catch(() => {
    // Not allowed before a tap, or not loaded yet: the next tap tries again.
    state.voicePending = true;
  });
}

function stopVoice() {
  ui.voice.pause();
  state.voicePending = false;
  if (state.voiceSrc === null && !ui.voice.hasAttribute("src")) return;
  state.voiceSrc = null;
  ui.voice.removeAttribute("src");
  ui.voice.load(); // let go of the old cue
}

function chime() {
  const audio = state.audio;
  if (!audio || state.muted || audio.state !== "running") return;
  const now = audio.currentTime;
  // A soft bell: a low sine with a faint octave, a quick swell and a long fade.
  for (const [frequency, peak] of [
    [523.25, 0.16],
    [1046.5, 0.04],
  ]) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.type = "sine";
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(peak, now + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 1.8);
    tone.connect(gain).connect(audio.destination);
    tone.start(now);
    tone.stop(now + 1.9);
  }
}

function signal() {
  chime();
  haptic();
}

// -- the screen stays on -------------------------------------------------------------------------

async function holdScreen() {
  if (state.view?.screen !== "practice" || document.hidden) return;
  if (state.wakeLock || state.wakePending) return;
  if (!("wakeLock" in navigator)) {
    ui.wakeNote.hidden = false;
    return;
  }
  state.wakePending = true;
  try {
    const lock = await navigator.wakeLock.request("screen");
    if (state.view?.screen !== "practice") {
      lock.release().catch(() => {});
      return;
    }
    state.wakeLock = lock;
    ui.wakeNote.hidden = true;
    lock.addEventListener("release", () => {
      if (state.wakeLock === lock) state.wakeLock = null;
    });
  } catch {
    ui.wakeNote.hidden = false;
  } finally {
    state.wakePending = false;
  }
}

function releaseScreen() {
  const lock = state.wakeLock;
  state.wakeLock = null;
  lock?.release().catch(() => {});
}

// -- notices ---------------------------------------------------------------------------------

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
}

function hideNotice() {
  ui.notice.hidden = true;
}

// -- start ---------------------------------------------------------------------------------------

async function start() {
  const result = await call("state", {}, { retries: 3 });
  if (result.fatal) showFatal(result.fatal);
  else if (result.view) show(result.view);
  else if (!state.view) showNoAnswer();
}

// Any tap lets sound play: a cue that arrived before the first tap is spoken at the next one.
document.addEventListener("click", unlockAudio, { capture: true });
connectTelegram();
wireControls();
watchVisibility();
start();
