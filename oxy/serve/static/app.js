// The oxy chat page: pick an agent, ask, watch the run's events stream in; past threads on the left.
// Plain ES modules, no build step and nothing from a CDN. Model output only ever reaches the page as
// text nodes (see dom.js).

import { h } from "./dom.js";
import { renderThreadMessages, TurnView } from "./render.js";
import { readEventStream } from "./sse.js";

const KEY_STORAGE = "oxy.apiKey";
const AGENT_STORAGE = "oxy.agent";
const STOP_GRACE_MS = 5000;

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const ui = {
  app: byTestId("app"),
  agent: byTestId("agent-select"),
  description: byTestId("agent-description"),
  threads: byTestId("thread-list"),
  threadsEmpty: byTestId("thread-list-empty"),
  newChat: byTestId("new-chat"),
  log: byTestId("messages"),
  form: byTestId("composer"),
  prompt: byTestId("prompt-input"),
  send: byTestId("send-button"),
  stop: byTestId("stop-button"),
  notice: byTestId("notice"),
  keyButton: byTestId("key-button"),
  keyDialog: byTestId("key-dialog"),
  keyInput: byTestId("key-input"),
  keyReason: byTestId("key-reason"),
  sidebarToggle: byTestId("sidebar-toggle"),
};

const state = {
  agents: [],
  threadId: null,
  threadAgent: null,
  /** The run in flight: {controller, runId, turn, stopping, stopTimer, done, resolve} (see newRun). */
  running: null,
};

// ---------------------------------------------------------------------------------------------- API

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function errorText(response) {
  let detail = "";
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      // oxy serve answers {"error": {"type", "message"}}; FastAPI's own errors {"detail": ...}.
      const error = body && body.error;
      if (error && typeof error.message === "string") detail = error.message;
      else if (typeof error === "string") detail = error;
      else if (typeof body.detail === "string") detail = body.detail;
      else detail = JSON.stringify(body.detail ?? body);
    } catch {
      detail = text.trim();
    }
  } catch {
    // The body couldn't be read: the status line will do.
  }
  return `${response.status} ${response.statusText}${detail ? `: ${detail}` : ""}`;
}

/** fetch() with the saved key; on 401 ask for a key and try again, until the user cancels. */
async function api(path, options = {}) {
  for (;;) {
    const headers = new Headers(options.headers || {});
    const key = localStorage.getItem(KEY_STORAGE);
    if (key) headers.set("Authorization", `Bearer ${key}`);
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401) {
      const reason = key ? "The server refused the saved key. Paste another one." : "This server needs an API key.";
      if (await askForKey(reason)) continue;
      throw new HttpError(401, "This server needs an API key: use the key button at the top right.");
    }
    if (!response.ok) throw new HttpError(response.status, await errorText(response));
    return response;
  }
}

async function getJson(path) {
  return (await api(path, { headers: { Accept: "application/json" } })).json();
}

/** A list answer, bare or wrapped (`{"threads": [...]}`, `{"data": [...]}`). */
function listOf(body, key) {
  if (Array.isArray(body)) return body;
  for (const name of [key, "data", "items"]) if (body && Array.isArray(body[name])) return body[name];
  return [];
}

const threadIdOf = (thread) => thread.id ?? thread.thread_id;

let keyPrompt = null;

/** Show the key dialog (once, however many requests got a 401); true when a key was saved. */
function askForKey(reason) {
  if (keyPrompt) return keyPrompt;
  keyPrompt = new Promise((resolve) => {
    ui.keyReason.textContent = reason;
    ui.keyInput.value = "";
    ui.keyDialog.addEventListener("close", () => {
      const action = ui.keyDialog.returnValue;
      const key = ui.keyInput.value.trim();
      ui.keyInput.value = "";
      keyPrompt = null;
      if (action === "save" && key) {
        localStorage.setItem(KEY_STORAGE, key);
        resolve(true);
      } else {
        if (action === "clear") localStorage.removeItem(KEY_STORAGE);
        resolve(false);
      }
    }, { once: true });
    ui.keyDialog.returnValue = "";
    ui.keyDialog.showModal();
    ui.keyInput.focus();
  });
  return keyPrompt;
}

// ---------------------------------------------------------------------------------------- Notices

function showNotice(message) {
  ui.notice.textContent = message;
  ui.notice.hidden = !message;
}

// ----------------------------------------------------------------------------------------- Agents

async function loadAgents() {
  try {
    state.agents = listOf(await getJson("/api/agents"), "agents");
  } catch (error) {
    ui.agent.replaceChildren(h("option", { value: "" }, "No agents"));
    showNotice(`Could not load the agents: ${error.message}`);
    return;
  }
  const saved = localStorage.getItem(AGENT_STORAGE);
  ui.agent.replaceChildren(
    ...(state.agents.length ? [] : [h("option", { value: "" }, "No agents in this project")]),
    ...state.agents.map((a) => h("option", { value: a.name, title: a.path || undefined, "data-type": a.type || undefined },
      a.error ? `${a.name} (does not load)` : a.name)),
  );
  if (state.agents.some((a) => a.name === saved)) ui.agent.value = saved;
  ui.agent.disabled = !state.agents.length;
  describeAgent();
}

function agentByName(name) {
  return state.agents.find((a) => a.name === name || a.path === name);
}

function describeAgent() {
  const agent = agentByName(ui.agent.value);
  ui.description.textContent = agent ? agent.error || agent.description || "" : "";
  ui.description.classList.toggle("agent-error", Boolean(agent && agent.error));
  ui.description.title = agent && agent.path ? agent.path : "";
}

// ---------------------------------------------------------------------------------------- Threads

function formatWhen(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

async function loadThreads() {
  let threads;
  try {
    threads = listOf(await getJson("/api/threads"), "threads");
  } catch (error) {
    showNotice(`Could not load the threads: ${error.message}`);
    return;
  }
  threads = [...threads].sort((a, b) => String(b.updated_at || "").localeCompare(String(a.updated_at || "")));
  ui.threads.replaceChildren(...threads.map((t) => {
    const id = threadIdOf(t);
    const button = h("button", { type: "button", class: "thread", testid: "thread-item", "data-thread-id": id },
      h("span", { class: "thread-title", testid: "thread-title" }, t.title || "Untitled"),
      h("span", { class: "thread-meta" }, [agentByName(t.agent)?.name ?? t.agent, formatWhen(t.updated_at || t.created_at)].filter(Boolean).join(" · ")));
    button.addEventListener("click", () => openThread(id));
    return h("li", {}, button);
  }));
  ui.threadsEmpty.hidden = threads.length > 0;
  markActiveThread();
}

function markActiveThread() {
  for (const button of ui.threads.querySelectorAll("[data-thread-id]")) {
    if (button.dataset.threadId === state.threadId) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

function setThread(id, agent) {
  state.threadId = id;
  state.threadAgent = agent;
  const hash = id ? `#thread=${encodeURIComponent(id)}` : "";
  if (location.hash !== hash) history.replaceState(null, "", hash || location.pathname + location.search);
  markActiveThread();
}

function clearLog() {
  ui.log.replaceChildren();
}

function showEmptyState() {
  ui.log.replaceChildren(h("div", { class: "empty-state", testid: "empty-state" },
    h("h1", {}, "Ask your data a question"),
    h("p", {}, "Pick an agent, type a question, and watch it query and answer.")));
}

async function openThread(id) {
  if (state.running) return;
  closeSidebar();
  let thread;
  try {
    thread = await getJson(`/api/threads/${encodeURIComponent(id)}`);
  } catch (error) {
    showNotice(`Could not open the thread: ${error.message}`);
    return;
  }
  showNotice("");
  clearLog();
  const agent = agentByName(thread.agent);
  if (agent) {
    ui.agent.value = agent.name;
    describeAgent();
  }
  setThread(threadIdOf(thread) || id, agent ? agent.name : thread.agent);
  const runs = await threadRuns(state.threadId);
  if (runs) {
    const turns = [];
    for (const { runId, prompt, events } of runs) {
      if (prompt) addUserTurn(prompt);
      const turn = turnView(addAssistantTurn(false));
      turn.runId = runId || null;
      for (const event of events) turn.add(event);
      turns.push(turn);
    }
    void settleStoredRequests(turns);
  } else {
    renderThreadMessages(thread.messages || [], { userTurn: addUserTurn, assistantTurn: () => addAssistantTurn(false) });
  }
  ui.log.scrollTop = ui.log.scrollHeight;
  ui.prompt.focus();
}

/**
 * A thread's runs with their stored events, oldest first, to draw each turn as it was streamed
 * (SQL, tables, charts); `null` when the server can't say, and the thread's messages are drawn instead.
 */
async function threadRuns(threadId) {
  try {
    const runs = listOf(await getJson(`/api/runs?thread_id=${encodeURIComponent(threadId)}&limit=1000`), "runs");
    if (!runs.length) return null;
    runs.sort((a, b) => String(a.started_at || "").localeCompare(String(b.started_at || "")));
    return await Promise.all(runs.map(async (run) => {
      const runId = run.run_id ?? run.id;
      const events = listOf(await getJson(`/api/runs/${encodeURIComponent(runId)}/events`), "events")
        .map((e) => (e && e.event && !e.kind ? e.event : e));
      const started = events.find((e) => e.kind === "run_started");
      return { runId, prompt: promptOf(started ? started.input : run.input) ?? promptOf(run.input) ?? "", events };
    }));
  } catch {
    return null;
  }
}

/**
 * A reopened thread's requests for input that its events leave unanswered: the server says which
 * were answered since (from another tab, or by the run's resumption), expired or ended with their
 * run; the others keep their buttons.
 */
async function settleStoredRequests(turns) {
  await Promise.all(turns.map(async (turn) => {
    for (const runId of new Set(turn.openRequests().map((r) => r.runId).filter(Boolean))) {
      try {
        const records = listOf(await getJson(`/api/runs/${encodeURIComponent(runId)}/input`), "requests");
        for (const record of records) turn.settleStored(record);
      } catch {
        // The buttons stay: answering says what the server thinks of it.
      }
    }
  }));
}

/** The question in a run's input: the prompt itself, or an agent request's `prompt`. */
function promptOf(input) {
  if (typeof input === "string") return input;
  if (input && typeof input.prompt === "string") return input.prompt;
  return undefined;
}

function newChat() {
  if (state.running) return;
  setThread(null, null);
  showEmptyState();
  closeSidebar();
  ui.prompt.focus();
}

// ------------------------------------------------------------------------------------------ Turns

function addUserTurn(text) {
  ui.log.querySelector("[data-testid=empty-state]")?.remove();
  const turn = h("article", { class: "turn user", testid: "message-user", "aria-label": "Your question" }, h("div", { class: "bubble" }, text));
  ui.log.append(turn);
  return turn;
}

function addAssistantTurn(busy) {
  const turn = h("article", { class: "turn assistant", testid: "message-assistant", "aria-label": "Answer", "aria-busy": busy ? "true" : "false" });
  ui.log.append(turn);
  return turn;
}

function nearBottom() {
  return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 120;
}

// ------------------------------------------------------------------------------------------- Runs

function setRunning(running) {
  ui.send.hidden = running;
  ui.stop.hidden = !running;
  ui.stop.disabled = false;
  ui.stop.textContent = "Stop";
  ui.newChat.disabled = running;
  ui.agent.disabled = running || !state.agents.length;
  ui.app.classList.toggle("is-running", running);
}

/** A run this page follows: `done` settles when it is no longer `state.running`. */
function newRun(turn, runId = null) {
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  return { controller: new AbortController(), runId, turn, stopping: false, stopTimer: null, done, resolve };
}

/** An assistant turn whose requests for input (approvals, questions) are answered through the API. */
function turnView(container) {
  const turn = new TurnView(container, { answer: (runId, body) => answerInput(turn, runId, body) });
  return turn;
}

async function send(prompt) {
  const agent = ui.agent.value;
  if (!agent) {
    showNotice("Pick an agent first.");
    return;
  }
  if (state.threadId && state.threadAgent && state.threadAgent !== agent) setThread(null, null);
  showNotice("");
  localStorage.setItem(AGENT_STORAGE, agent);
  addUserTurn(prompt);
  const run = newRun(turnView(addAssistantTurn(true)));
  ui.log.scrollTop = ui.log.scrollHeight;
  await drive(run, async () => {
    const response = await api(`/api/agents/${encodeURIComponent(agent)}/runs`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ prompt, thread_id: state.threadId, stream: true }),
      signal: run.controller.signal,
    });
    run.runId = response.headers.get("X-Oxy-Run-Id");
    if (run.runId && !run.turn.runId) run.turn.runId = run.runId;
    const threadId = response.headers.get("X-Oxy-Thread-Id");
    if (threadId) setThread(threadId, agent);
    return response;
  });
}

/**
 * Follow a run's event stream (`GET /api/runs/{id}/events?follow=true`) from its `after`-th event on,
 * into `turn`: a paused run that goes on once answered, or the new run that resumes it. Waits for
 * the run in flight, if any, to end first.
 */
async function followRun(turn, runId, { after = 0, note = "" } = {}) {
  while (state.running) await state.running.done;
  if (!turn.el.isConnected) return; // another thread is open now
  if (note) turn.note(note);
  const run = newRun(turn, runId);
  await drive(run, () => api(`/api/runs/${encodeURIComponent(runId)}/events?follow=true&after=${after}`, {
    headers: { Accept: "text/event-stream" },
    signal: run.controller.signal,
  }));
}

/**
 * Run `run` as the page's run in flight: `open()` answers its event stream, which is drawn into the
 * run's turn until the run finishes or the stream ends.
 */
async function drive(run, open) {
  const { turn } = run;
  state.running = run;
  setRunning(true);
  turn.el.setAttribute("aria-busy", "true");
  let finished = false;
  try {
    const response = await open();
    if (run.stopping && run.runId) void cancelRun(run);
    for await (const message of readEventStream(response.body)) {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        continue;
      }
      if (!event.kind) event.kind = message.event;
      if (event.kind === "run_started" && !run.runId) {
        run.runId = event.run_id;
        if (run.stopping) void cancelRun(run);
      }
      const stick = nearBottom();
      turn.add(event);
      if (event.kind === "run_finished") finished = true;
      if (stick) ui.log.scrollTop = ui.log.scrollHeight;
    }
    if (!finished) turn.fail(run.stopping ? "Stopped." : "The connection closed before the run finished.");
  } catch (error) {
    if (error.name === "AbortError") turn.fail("Stopped.");
    else turn.fail(error.message);
  } finally {
    clearTimeout(run.stopTimer);
    turn.el.setAttribute("aria-busy", "false");
    state.running = null;
    setRunning(false);
    ui.log.scrollTop = ui.log.scrollHeight;
    void loadThreads();
    ui.prompt.focus();
    run.resolve();
  }
}

/**
 * Answer a run's request for input (`POST /api/runs/{id}/input`); an HttpError says why not. The
 * answered run goes on: in the stream this page reads, or, when nothing here follows it, in one
 * opened for it; a server that restarted while the run waited resumes it as a new run, whose
 * events continue the same turn.
 */
async function answerInput(turn, runId, body) {
  const response = await api(`/api/runs/${encodeURIComponent(runId)}/input`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  let result = {};
  try {
    result = (await response.json()) || {};
  } catch {
    // No body: the run goes on as it was.
  }
  const next = typeof result.run_id === "string" && result.run_id ? result.run_id : runId;
  if (result.resumed) {
    void followRun(turn, next, { note: "The server restarted while the run waited: it goes on as a new run." });
  } else if (!(state.running && state.running.runId === next)) {
    void followRun(turn, next, { after: turn.eventsOf(next) });
  }
}

async function cancelRun(run) {
  try {
    await api(`/api/runs/${encodeURIComponent(run.runId)}/cancel`, { method: "POST" });
  } catch {
    run.controller.abort();
  }
}

function stop() {
  const run = state.running;
  if (!run || run.stopping) return;
  run.stopping = true;
  ui.stop.disabled = true;
  ui.stop.textContent = "Stopping…";
  // Ask the server to cancel (it then ends the stream with run_finished "cancelled"); if it can't or
  // doesn't within a few seconds, drop the connection.
  if (run.runId) void cancelRun(run);
  run.stopTimer = setTimeout(() => run.controller.abort(), STOP_GRACE_MS);
}

// ------------------------------------------------------------------------------------------ Wiring

function closeSidebar() {
  ui.app.classList.remove("sidebar-open");
  ui.sidebarToggle.setAttribute("aria-expanded", "false");
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const prompt = ui.prompt.value.trim();
  if (!prompt || state.running) return;
  ui.prompt.value = "";
  autoGrow();
  void send(prompt);
});

ui.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.form.requestSubmit();
  }
});

function autoGrow() {
  ui.prompt.style.height = "auto";
  ui.prompt.style.height = `${Math.min(ui.prompt.scrollHeight, 240)}px`;
}
ui.prompt.addEventListener("input", autoGrow);

ui.stop.addEventListener("click", stop);
ui.newChat.addEventListener("click", newChat);
ui.agent.addEventListener("change", () => {
  describeAgent();
  localStorage.setItem(AGENT_STORAGE, ui.agent.value);
  if (state.threadId && state.threadAgent !== ui.agent.value) newChat();
});
ui.keyButton.addEventListener("click", async () => {
  if (await askForKey(localStorage.getItem(KEY_STORAGE) ? "A key is saved. Paste a new one, or forget it." : "Paste the server's API key.")) {
    showNotice("");
    await Promise.all([loadAgents(), loadThreads()]);
  }
});
ui.sidebarToggle.addEventListener("click", () => {
  const open = ui.app.classList.toggle("sidebar-open");
  ui.sidebarToggle.setAttribute("aria-expanded", String(open));
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && ui.app.classList.contains("sidebar-open")) closeSidebar();
});

function threadFromHash() {
  const match = /^#thread=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function start() {
  await loadAgents();
  await loadThreads();
  const threadId = threadFromHash();
  if (threadId) await openThread(threadId);
  ui.app.dataset.ready = "true";
}

void start();
