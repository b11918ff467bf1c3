// Server-sent events over a fetch() body: the framing of the HTML spec's event-stream parser.
// EventSource can only GET; oxy's runs are POSTs, so the page reads the body itself.

const LINE_END = /\r\n|\r|\n/;

/**
 * Yield `{event, data, id}` for each message of a text/event-stream body.
 * `event` defaults to "message"; multi-line `data:` fields are joined with "\n"; comments are skipped.
 * @param {ReadableStream<Uint8Array>} body
 */
export async function* readEventStream(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "";
  let data = [];
  let id = "";
  const dispatch = () => {
    const message = data.length ? { event: event || "message", data: data.join("\n"), id } : null;
    event = "";
    data = [];
    return message;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += value;
      // At the end, close a last line and message the server didn't finish with a blank line.
      if (done) buffer += "\n\n";
      for (;;) {
        const match = LINE_END.exec(buffer);
        if (!match) break;
        // A lone "\r" at the end of the buffer may be the first half of "\r\n": wait for more.
        if (match[0] === "\r" && match.index === buffer.length - 1 && !done) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          const message = dispatch();
          if (message) yield message;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
        else if (field === "id") id = text;
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}
