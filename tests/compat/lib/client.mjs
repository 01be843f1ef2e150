// Wraps the real reference GatewayClient so tests can wait on what it reported
// (hellos, events, closes, connect errors, reconnect attempts) instead of sleeping.
import { EventEmitter } from "node:events";
import { GatewayClient } from "@openclaw/gateway-client";

const DEFAULT_WAIT_MS = 10_000;
const running = new Set();

/**
 * @param {{ url: string, token: string }} gateway
 * @param {{ name: string } & Record<string, unknown>} options extra GatewayClient options win over the defaults
 */
export function observedClient(gateway, { name, ...options }) {
  const startedAt = Date.now();
  const changed = new EventEmitter();
  const log = {
    /** One per socket the client opened; counted client-side so it does not depend on the gateway's logs. */
    attempts: 0,
    hellos: [],
    events: [],
    closes: [],
    connectErrors: [],
    paused: [],
    gaps: [],
    clientErrors: [],
    timeline: [],
  };
  const note = (kind, summary, list, value) => {
    list?.push(value);
    log.timeline.push({ t: Date.now() - startedAt, kind, summary });
    changed.emit("change");
  };

  const client = new GatewayClient({
    url: gateway.url,
    token: gateway.token,
    // Keeps a developer's OPENCLAW_* timeout overrides out of the test.
    env: {},
    requestTimeoutMs: 10_000,
    clientDisplayName: name,
    hostDeps: {
      beforeConnect: () => {
        log.attempts += 1;
        note("attempt", `#${log.attempts}`);
      },
      logError: (message) => note("client-error", message, log.clientErrors, message),
    },
    onHelloOk: (hello) => note("hello", `tickIntervalMs=${hello?.policy?.tickIntervalMs}`, log.hellos, hello),
    onEvent: (frame) => note("event", `${frame.event}${frame.seq === undefined ? "" : ` seq=${frame.seq}`}`, log.events, frame),
    onClose: (code, reason, info) =>
      note("close", `${code} "${reason}" ${info?.phase ?? ""}`, log.closes, { code, reason, phase: info?.phase, at: Date.now() }),
    onConnectError: (error) =>
      note("connect-error", `${error?.name}: ${error?.message} ${error?.details ? JSON.stringify(error.details) : ""}`, log.connectErrors, error),
    onReconnectPaused: (info) => note("reconnect-paused", JSON.stringify(info), log.paused, info),
    onGap: (info) => note("gap", JSON.stringify(info), log.gaps, info),
    ...options,
  });

  const describe = () => log.timeline.slice(-25).map((e) => `  +${e.t}ms ${e.kind} ${e.summary}`).join("\n");

  return {
    name,
    client,
    log,
    eventsNamed: (event) => log.events.filter((frame) => frame.event === event),
    start() {
      running.add(client);
      client.start();
    },
    async stop() {
      running.delete(client);
      await client.stopAndWait({ timeoutMs: 2_000 }).catch(() => {});
    },
    request: (method, params) => client.request(method, params),
    /** Resolves with the predicate's first truthy result, re-checked whenever the client reports something. */
    waitFor(what, predicate, timeoutMs = DEFAULT_WAIT_MS) {
      const immediate = predicate(log);
      if (immediate) return Promise.resolve(immediate);
      return new Promise((resolve, reject) => {
        const onChange = () => {
          const result = predicate(log);
          if (!result) return;
          cleanup();
          resolve(result);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`[${name}] timed out after ${timeoutMs}ms waiting for ${what}; client timeline:\n${describe()}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          changed.off("change", onChange);
        };
        changed.on("change", onChange);
      });
    },
    describe,
  };
}

/** For after() hooks: a client left running would keep reconnecting and hold the test process open. */
export async function stopAllClients() {
  await Promise.all([...running].map((client) => client.stopAndWait({ timeoutMs: 2_000 }).catch(() => {})));
  running.clear();
}
