// A graceful gateway stop must look like a restart to the reference client: it reconnects on its own.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { killAllGateways, startGateway, waitForPortFree } from "../lib/gateway.mjs";
import { observedClient, stopAllClients } from "../lib/client.mjs";
import { withTimeout } from "../lib/wait.mjs";

// Backoff after a post-hello close is 1 s, 2 s, 4 s, 8 s …; a gateway that is back within a few
// seconds is reached by the 3rd or 4th attempt, well inside this bound.
const RECONNECT_TIMEOUT_MS = 45_000;

after(async () => {
  await stopAllClients();
  killAllGateways();
});

test("after SIGTERM (shutdown event, close 1012) the client reconnects to the restarted gateway", async () => {
  const first = await startGateway({ label: "restart-before" });
  const observed = observedClient(first, { name: "survivor" });
  observed.start();
  try {
    await observed.waitFor("first hello-ok", (log) => log.hellos.length > 0);

    const stopping = first.stop();
    const close = await observed.waitFor("close after SIGTERM", (log) => log.closes[0]);
    assert.equal(close.code, 1012, `close code: ${JSON.stringify(close)}\n${observed.describe()}`);
    assert.equal(close.reason, "service restart");
    assert.equal(close.phase, "post-hello");

    const shutdown = observed.eventsNamed("shutdown");
    assert.equal(shutdown.length, 1, `one shutdown event before the close:\n${observed.describe()}`);
    assert.equal(typeof shutdown[0].payload?.reason, "string", JSON.stringify(shutdown[0]));
    const order = observed.log.timeline.map((e) => e.kind === "event" ? e.summary.split(" ")[0] : e.kind);
    assert.ok(order.lastIndexOf("shutdown") < order.indexOf("close"), `shutdown event precedes the close: ${order}`);

    const exit = await withTimeout(stopping, 15_000, "the gateway process to exit after SIGTERM");
    assert.ok(!exit.killed, `gateway exited on SIGTERM without SIGKILL (code=${exit.code} signal=${exit.signal})`);
    await waitForPortFree(first.port);
    assert.equal(observed.log.paused.length, 0, "a 1012 close must not pause reconnects");

    const second = await startGateway({ label: "restart-after", port: first.port, token: first.token });
    try {
      await observed.waitFor("hello-ok from the restarted gateway", (log) => log.hellos.length >= 2, RECONNECT_TIMEOUT_MS);
      assert.ok(observed.log.attempts >= 2);
      const rows = await observed.request("system-presence", {});
      assert.equal(rows?.[0]?.reason, "self", "the new connection is usable");
    } finally {
      await observed.stop();
      await second.stop();
    }
  } finally {
    await observed.stop();
    await first.stop();
  }
});
