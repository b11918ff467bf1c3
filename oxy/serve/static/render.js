// Engine events (oxy/execution/events.py) drawn into one assistant turn of the conversation.

import { renderChart } from "./chart.js";
import { displayValue, h } from "./dom.js";

const TABLE_PAGE = 50;

const SQL_KEYWORDS = new Set(`select from where group by order having limit offset join left right inner outer full cross on
as and or not in is null like ilike between case when then else end distinct union all except intersect with
count sum avg min max cast over partition asc desc insert update delete create table view values into set
true false exists any filter window rows range interval date timestamp qualify using natural lateral`.split(/\s+/));

const SQL_TOKENS = /(--[^\n]*|\/\*[\s\S]*?\*\/)|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)|([\s\S])/g;

/** SQL in a <pre>, its keywords, strings, numbers and comments in spans (text nodes only). */
export function sqlBlock(sql, attrs = {}) {
  const code = h("code", { class: "language-sql" });
  let plain = "";
  const flush = () => { if (plain) { code.append(plain); plain = ""; } };
  for (const m of sql.matchAll(SQL_TOKENS)) {
    const [text, comment, string, quoted, number, word] = m;
    let cls = null;
    if (comment) cls = "tok-comment";
    else if (string) cls = "tok-string";
    else if (quoted) cls = "tok-ident";
    else if (number) cls = "tok-number";
    else if (word && SQL_KEYWORDS.has(word.toLowerCase())) cls = "tok-keyword";
    if (cls) { flush(); code.append(h("span", { class: cls }, text)); } else plain += text;
  }
  flush();
  return h("pre", { class: "sql", ...attrs }, code);
}

/** Tool-call arguments: SQL as SQL, other JSON pretty-printed, anything else as sent. */
function argumentsBlock(name, raw) {
  let parsed;
  try { parsed = JSON.parse(raw || "{}"); } catch { return h("pre", { class: "args", testid: "tool-call-args" }, raw); }
  if (parsed && typeof parsed === "object" && typeof parsed.sql === "string") {
    const rest = { ...parsed };
    delete rest.sql;
    return h("div", { class: "args", testid: "tool-call-args" },
      h("figure", { class: "sql-block" }, h("figcaption", {}, "SQL"), sqlBlock(parsed.sql, { testid: "tool-call-sql" })),
      Object.keys(rest).length ? h("pre", { class: "args-rest" }, JSON.stringify(rest, null, 2)) : null);
  }
  const empty = parsed && typeof parsed === "object" && !Array.isArray(parsed) && !Object.keys(parsed).length;
  return h("pre", { class: "args", testid: "tool-call-args" }, empty ? "(no arguments)" : JSON.stringify(parsed, null, 2));
}

/** A result table; past TABLE_PAGE rows a "N more rows" button shows the rest. */
export function renderTable(event) {
  const columns = event.columns || [];
  const rows = event.rows || [];
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === "number"));
  const body = h("tbody", {});
  const addRows = (from, to) => {
    for (const row of rows.slice(from, to)) {
      body.append(h("tr", {}, columns.map((_, i) => h("td", { class: [numeric[i] ? "num" : "", row[i] === null ? "null" : ""].join(" ").trim() || undefined }, displayValue(row[i])))));
    }
  };
  addRows(0, TABLE_PAGE);
  const caption = h("caption", { class: "sr-only" }, `Result table: ${rows.length} row${rows.length === 1 ? "" : "s"}`);
  const table = h("table", { class: "result" }, caption,
    h("thead", {}, h("tr", {}, columns.map((c, i) => h("th", { scope: "col", class: numeric[i] ? "num" : undefined }, c)))), body);
  const wrapper = h("figure", { class: "table-block", testid: "table" }, h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Result table" }, table));
  const footer = h("figcaption", { class: "table-footer" },
    h("span", { testid: "table-count" }, `${rows.length} row${rows.length === 1 ? "" : "s"}${event.database ? ` · ${event.database}` : ""}`));
  if (rows.length > TABLE_PAGE) {
    const more = h("button", { type: "button", class: "link", testid: "table-more" }, `${rows.length - TABLE_PAGE} more rows`);
    const part = h("span", {}, " · ", more);
    more.addEventListener("click", () => { addRows(TABLE_PAGE, rows.length); part.remove(); });
    footer.append(part);
  }
  if (event.truncated) {
    // The engine drops rows past its cap and says only that it did (a count, if a server adds one).
    const total = event.total_rows ?? event.row_count;
    const cut = typeof total === "number" && total > rows.length ? `${total - rows.length} more rows` : "more rows";
    footer.append(" · ", h("span", { class: "truncated", testid: "table-truncated" }, `${cut} not shown (row limit)`));
  }
  wrapper.append(footer);
  return wrapper;
}

function sourceLabel(source) {
  return source && source.length ? source.join(" › ") : "";
}

/** Text with its `backticked` parts as <code> (text nodes only): "run `pytest -q`". */
function withCode(text) {
  return String(text ?? "").split(/`([^`\n]+)`/).map((part, i) => (i % 2 ? h("code", {}, part) : part)).filter((part) => part !== "");
}

/** How long a request waits, for people: "90 s", "10 min", "2 h"; "" when it waits for ever. */
function waitLabel(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/**
 * What an answer came to, as a request's card says it: `[text, state]`. `answer` is an
 * `input_answered` event or a stored answer (`approved`, `always`, `text`, `note`); a refusal with
 * a note is nobody's answer (it expired, or the run was unattended).
 */
export function answerOutcome(kind, answer) {
  const { approved, always, text, note } = answer || {};
  if (kind === "question" && (approved || typeof text === "string")) {
    return [typeof text === "string" ? `Answered: ${text}` : "Answered", "answered"];
  }
  if (kind !== "question" && approved) return [always ? "Approved for this conversation" : "Approved", "approved"];
  if (note) return [`Not answered: ${note}`, "expired"];
  return kind === "question" ? ["Not answered", "expired"] : ["Denied", "denied"];
}

/**
 * One assistant turn: feed it events with `add(event)`; it keeps text blocks, tool cards and their
 * results, tables, charts, errors and the final status line in arrival order.
 */
export class TurnView {
  /**
   * `answer(runId, body)` sends a person's answer to a run's request for input (the body of
   * `POST /api/runs/{runId}/input`); it rejects with an Error (its `status`, if an HTTP one) when
   * the server refuses. Without it, requests show as text.
   */
  constructor(container, { answer } = {}) {
    this.el = container;
    this.answer = answer || null;
    /** Requests for input by id: {id, kind, runId, card, controls, error, outcome, busy, settled}. */
    this.requests = new Map();
    /** Events drawn, by the run they came from (where to pick up a run's stream). */
    this.counts = new Map();
    this.text = null;
    this.textSource = null;
    this.reasoning = null;
    this.calls = new Map();
    this.runSource = null;
    this.usage = { calls: 0, input: 0, output: 0 };
    this.toolCalls = 0;
    this.runId = null;
    this.finished = null;
  }

  add(event) {
    const runId = event.kind === "run_started" && event.run_id ? event.run_id : this.runId;
    if (runId) this.counts.set(runId, (this.counts.get(runId) || 0) + 1);
    const handler = this[`on_${event.kind}`];
    if (handler) handler.call(this, event);
  }

  breakText() {
    this.text = null;
    this.reasoning = null;
  }

  on_run_started(e) {
    this.runId = e.run_id;
    this.runSource = e.source || [];
    this.el.dataset.runId = e.run_id;
  }

  on_text_delta(e) {
    const key = sourceLabel(e.source);
    if (!this.text || this.textSource !== key) {
      this.reasoning = null;
      this.textSource = key;
      const nested = e.source && e.source.length > 1;
      this.text = h("div", { class: "text", testid: "answer-text" });
      this.el.append(nested ? h("div", { class: "nested" }, h("div", { class: "source", testid: "source" }, key), this.text) : this.text);
    }
    this.text.append(e.text);
  }

  on_reasoning_delta(e) {
    if (!this.reasoning) {
      this.text = null;
      this.reasoning = h("div", { class: "reasoning-text" });
      this.el.append(h("details", { class: "reasoning", testid: "reasoning" }, h("summary", {}, "Reasoning"), this.reasoning));
    }
    this.reasoning.append(e.text);
  }

  on_tool_call(e) {
    this.breakText();
    this.toolCalls += 1;
    const result = h("div", { class: "tool-result-slot" });
    const card = h("section", { class: "tool-call", testid: "tool-call", "data-call-id": e.call_id, "aria-label": `Tool call ${e.name}` },
      h("header", {}, h("span", { class: "tool-icon", "aria-hidden": "true" }, "→"), " ",
        h("span", { class: "tool-name", testid: "tool-call-name" }, e.name),
        e.source && e.source.length > 1 ? h("span", { class: "source" }, sourceLabel(e.source)) : null),
      argumentsBlock(e.name, e.arguments), result);
    this.calls.set(e.call_id, { name: e.name, card, result, closed: false, sql: false, table: false });
    this.el.append(card);
  }

  on_tool_result(e) {
    this.breakText();
    const target = this.calls.get(e.call_id);
    const block = h("details", { class: `tool-result${e.is_error ? " is-error" : ""}`, testid: "tool-result", open: e.is_error || undefined },
      h("summary", {}, e.is_error ? `${e.name} failed` : `${e.name} result`), h("pre", {}, e.content));
    if (target) {
      target.closed = true;
      target.result.append(block);
      target.card.classList.add(e.is_error ? "failed" : "done");
    } else this.el.append(block);
  }

  /**
   * The card a tool step's SQL or table belongs in: the first still-open call of that tool (by the
   * step's name, the last part of `source`) that hasn't had one yet. Parallel calls of one tool
   * start in call order, so their SQL and tables land in order; anything else goes in the turn.
   */
  slotFor(source, kind) {
    if (!source || source.length < 2) return this.el;
    const name = source.at(-1);
    const open = [...this.calls.values()].filter((c) => c.name === name && !c.closed);
    const slot = kind === "sql"
      ? open.find((c) => !c.sql)
      : open.find((c) => c.sql && !c.table) || open.find((c) => !c.table);
    if (!slot) return this.el;
    slot[kind] = true;
    return slot.result;
  }

  on_sql(e) {
    this.breakText();
    const caption = ["SQL", e.database ? ` · ${e.database}` : "", e.dialect ? ` (${e.dialect})` : ""].join("");
    const slot = this.slotFor(e.source, "sql");
    // The SQL the tool was called with, about to run as sent: label that block rather than repeat it.
    const sent = slot.closest && slot.closest("[data-testid=tool-call]")?.querySelector(".args > .sql-block");
    if (sent && !sent.dataset.testid && sent.querySelector("pre").textContent.trim() === e.sql.trim()) {
      sent.querySelector("figcaption").textContent = caption;
      sent.dataset.testid = "sql";
      return;
    }
    slot.append(h("figure", { class: "sql-block", testid: "sql" }, h("figcaption", {}, caption), sqlBlock(e.sql)));
  }

  on_table(e) {
    this.breakText();
    this.slotFor(e.source, "table").append(renderTable(e));
  }

  on_chart(e) {
    this.breakText();
    this.el.append(renderChart(e.spec, e.title));
  }

  on_usage(e) {
    this.usage.calls += 1;
    this.usage.input += e.input_tokens || 0;
    this.usage.output += e.output_tokens || 0;
  }

  on_error(e) {
    this.breakText();
    this.el.append(h("div", { class: "error", role: "alert", testid: "error" },
      h("strong", {}, e.error_type || "Error"), ": ", e.message));
  }

  on_run_finished(e) {
    this.breakText();
    this.finished = e;
    const parts = [];
    if (e.status === "ok") parts.push(`✓ ${(e.duration_s || 0).toFixed(2)} s`);
    else if (e.status === "cancelled") parts.push("■ stopped");
    else parts.push(`✗ ${e.status}`);
    if (this.usage.calls) parts.push(`${this.usage.calls} model call${this.usage.calls === 1 ? "" : "s"}`, `${this.usage.input} → ${this.usage.output} tokens`);
    if (this.toolCalls) parts.push(`${this.toolCalls} tool call${this.toolCalls === 1 ? "" : "s"}`);
    const status = h("footer", { class: `run-status status-${e.status}`, testid: "run-status", "data-status": e.status }, parts.join(" · "));
    if (e.status === "error" && e.error && !this.el.querySelector("[data-testid=error]")) {
      this.el.append(h("div", { class: "error", role: "alert", testid: "error" }, e.error));
    }
    this.el.append(status);
  }

  on_input_requested(e) {
    this.breakText();
    if (this.requests.has(e.request_id)) return;
    const kind = e.input_kind === "question" ? "question" : "permission";
    const controls = h("div", { class: "input-actions", testid: "input-actions" });
    const error = h("p", { class: "input-error", role: "alert", testid: "input-error", hidden: true });
    const outcome = h("p", { class: "input-outcome", role: "status", testid: "input-outcome", hidden: true });
    const wait = waitLabel(e.timeout_s);
    const card = h("section", {
      class: `input-request kind-${kind}`, testid: "input-request", "data-request-id": e.request_id,
      "data-input-kind": kind, "data-state": "pending",
      "aria-label": kind === "question" ? "A question for you" : `Permission for ${e.tool || "a tool"}`,
    },
    h("header", {},
      h("span", { class: "input-icon", "aria-hidden": "true" }, kind === "question" ? "?" : "!"), " ",
      h("span", { class: "input-title" }, kind === "question" ? "A question for you" : "Allow this?"),
      kind === "permission" && e.tool ? h("span", { class: "tool-name", testid: "input-tool" }, e.tool) : null,
      e.source && e.source.length > 1 ? h("span", { class: "source" }, sourceLabel(e.source)) : null),
    h("p", { class: "input-what", testid: "input-what" }, kind === "question" ? e.what : withCode(e.what)),
    e.why || wait ? h("p", { class: "input-why" },
      e.why ? h("span", { testid: "input-why" }, e.why) : null,
      e.why && wait ? " · " : null,
      wait ? h("span", { class: "input-wait" }, `waits ${wait} for an answer`) : null) : null,
    controls, error, outcome);
    const entry = { id: e.request_id, kind, runId: this.runId, card, controls, error, outcome, busy: false, settled: false };
    this.requests.set(e.request_id, entry);
    if (kind === "permission") {
      controls.append(
        this.answerButton(entry, "Approve", "primary", "input-approve", { approve: true, always: false }),
        this.answerButton(entry, "Always allow", "secondary", "input-always", { approve: true, always: true },
          "Approve it, and the same call again for the rest of this conversation"),
        this.answerButton(entry, "Deny", "secondary deny", "input-deny", { approve: false, always: false }));
    } else {
      const options = (e.options || []).map((option) =>
        this.answerButton(entry, option, "secondary", "input-option", { answer: option }));
      const field = h("input", {
        type: "text", class: "input-field", testid: "input-text", placeholder: "Your answer",
        "aria-label": "Your answer", autocomplete: "off", spellcheck: "true",
      });
      const form = h("form", { class: "input-answer", testid: "input-form" },
        field, h("button", { type: "submit", class: "primary", testid: "input-send" }, "Send"));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = field.value.trim();
        if (text) void this.respond(entry, { answer: text });
        else field.focus();
      });
      if (options.length) controls.append(h("div", { class: "input-options" }, options));
      controls.append(form);
    }
    if (!this.answer) controls.remove();
    this.el.append(card);
  }

  on_input_answered(e) {
    const entry = this.requests.get(e.request_id);
    if (entry) this.settle(entry, answerOutcome(entry.kind, e));
  }

  answerButton(entry, label, cls, testid, body, title) {
    const button = h("button", { type: "button", class: cls, testid, title }, label);
    button.addEventListener("click", () => void this.respond(entry, body));
    return button;
  }

  /** Send a person's answer; the card shows how it went (or why the server refused it). */
  async respond(entry, body) {
    if (entry.settled || entry.busy || !this.answer) return;
    if (!entry.runId) {
      entry.error.textContent = "This page does not know which run asked: reload it and try again.";
      entry.error.hidden = false;
      return;
    }
    entry.busy = true;
    entry.error.hidden = true;
    this.lock(entry, true);
    let closed = false;
    try {
      await this.answer(entry.runId, { request_id: entry.id, ...body });
      const given = "answer" in body ? { approved: true, text: body.answer } : { approved: body.approve, always: body.always };
      this.settle(entry, answerOutcome(entry.kind, given));
    } catch (error) {
      entry.error.textContent = error && error.message ? error.message : String(error);
      entry.error.hidden = false;
      // Gone, answered elsewhere or expired: there is nothing left to answer.
      closed = [404, 409, 410].includes(error && error.status);
      if (closed && !entry.settled) {
        entry.controls.remove();
        entry.card.dataset.state = "closed";
      }
    } finally {
      entry.busy = false;
      if (!entry.settled && !closed) this.lock(entry, false);
    }
  }

  lock(entry, locked) {
    for (const control of entry.controls.querySelectorAll("button, input")) control.disabled = locked;
  }

  settle(entry, [text, state]) {
    if (entry.settled) return;
    entry.settled = true;
    entry.controls.remove();
    entry.error.hidden = true;
    entry.outcome.textContent = text;
    entry.outcome.hidden = false;
    entry.card.dataset.state = state;
  }

  /** Requests drawn with no answer yet: `[{id, runId}]`. */
  openRequests() {
    return [...this.requests.values()].filter((r) => !r.settled).map(({ id, runId }) => ({ id, runId }));
  }

  /** A request as the server keeps it (`GET /api/runs/{id}/input`): settled unless still pending. */
  settleStored(record) {
    const entry = record && this.requests.get(record.id);
    if (!entry || !record.status || record.status === "pending") return;
    let answer = record.answer || {};
    if (record.status !== "answered" && !answer.note) answer = { ...answer, approved: false, note: record.status };
    this.settle(entry, answerOutcome(entry.kind, answer));
  }

  /** How many of a run's events this turn has drawn. */
  eventsOf(runId) {
    return this.counts.get(runId) || 0;
  }

  /** A line between parts of the turn ("the run goes on as a new run"). */
  note(message) {
    this.breakText();
    this.el.append(h("p", { class: "run-note", testid: "run-note" }, message));
  }

  /** A failure outside the event stream (network, HTTP status). */
  fail(message) {
    this.breakText();
    this.el.append(h("div", { class: "error", role: "alert", testid: "error" }, message));
  }
}

/**
 * A stored thread's messages as turns: user messages as bubbles; assistant text, tool calls and
 * tool results (matched by `tool_call_id`) folded into the assistant turn that follows each question.
 */
export function renderThreadMessages(messages, { userTurn, assistantTurn }) {
  let turn = null;
  for (const m of messages) {
    if (m.role === "system") continue;
    if (m.role === "user") {
      userTurn(m.content);
      turn = null;
      continue;
    }
    if (!turn) turn = new TurnView(assistantTurn());
    if (m.role === "assistant") {
      if (m.content) turn.on_text_delta({ text: m.content, source: [] });
      for (const call of m.tool_calls || []) {
        turn.on_tool_call({ call_id: call.id, name: call.name, arguments: call.arguments, source: [] });
      }
    } else if (m.role === "tool") {
      turn.on_tool_result({ call_id: m.tool_call_id, name: m.name || "tool", content: m.content, is_error: false });
    }
  }
}
