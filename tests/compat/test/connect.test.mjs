// A connected reference client: handshake, the presence list, presence events and tick liveness.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { killAllGateways, startGateway } from "../lib/gateway.mjs";
import { observedClient, stopAllClients } from "../lib/client.mjs";

let gateway;

before(async () => {
  gateway = await startGateway({ label: "connect" });
});

after(async () => {
  await stopAllClients();
  await gateway?.stop();
  killAllGateways();
});

async function connectedClient(name, options = {}) {
  const observed = observedClient(gateway, { name, ...options });
  observed.start();
  await observed.waitFor("hello-ok", (log) => log.hellos.length > 0);
  return observed;
}

test("token connect fires onHelloOk", async () => {
  const observed = await connectedClient("hello");
  try {
    assert.equal(observed.log.hellos.length, 1);
    assert.equal(observed.log.attempts, 1, "connected on the first attempt");
    assert.deepEqual(observed.log.connectErrors.map(String), []);
    assert.deepEqual(observed.log.closes, []);
    // The reference client ignores the payload, but the Swift client decodes it strictly.
    const [hello] = observed.log.hellos;
    assert.equal(hello?.type, "hello-ok", JSON.stringify(hello));
    assert.equal(hello?.protocol, 4);
    assert.ok(hello?.auth?.scopes?.includes("operator.admin"), `requested operator.admin granted: ${JSON.stringify(hello?.auth)}`);
  } finally {
    await observed.stop();
  }
});

test("system-presence returns an array led by the gateway self row", async () => {
  const observed = await connectedClient("system-presence");
  try {
    const rows = await observed.request("system-presence", {});
    assert.ok(Array.isArray(rows), `expected an array, got ${JSON.stringify(rows)}`);
    assert.ok(rows.length >= 1, "at least the self row");
    const [self] = rows;
    assert.equal(self.mode, "gateway", JSON.stringify(self));
    assert.equal(self.reason, "self", JSON.stringify(self));
    assert.ok(Number.isSafeInteger(self.ts), `self row ts is an integer: ${JSON.stringify(self)}`);
    assert.match(self.text ?? "", /^Gateway: /, "the CLI probe's fallback identification needs this prefix");
  } finally {
    await observed.stop();
  }
});

test("another client's system-event reaches this client as a presence event", async () => {
  const watcher = await connectedClient("watcher");
  const beacon = await connectedClient("beacon", { scopes: ["operator.admin"] });
  const instanceId = `compat-beacon-${randomUUID()}`;
  try {
    const reply = await beacon.request("system-event", {
      text: `compat beacon ${instanceId}`,
      instanceId,
      host: "compat-host",
      mode: "ui",
      reason: "periodic",
    });
    assert.equal(reply?.ok, true, `system-event reply ${JSON.stringify(reply)}`);

    const event = await watcher.waitFor(`a presence event listing ${instanceId}`, (log) =>
      log.events.find((frame) => frame.event === "presence"
        && frame.payload?.presence?.some?.((row) => row.instanceId === instanceId)));
    const row = event.payload.presence.find((r) => r.instanceId === instanceId);
    assert.equal(row.host, "compat-host");
    assert.equal(row.mode, "ui");
    assert.equal(row.reason, "periodic");
    assert.equal(row.text, `compat beacon ${instanceId}`);
    assert.ok(Number.isSafeInteger(event.seq) && event.seq >= 1, `presence event carries a seq: ${event.seq}`);
    assert.equal(event.payload.presence[0].reason, "self", "the event carries the full list, self row first");
  } finally {
    await Promise.all([watcher.stop(), beacon.stop()]);
  }
});

test("ticks at a short interval keep the client's watchdog quiet", async () => {
  const ticksWanted = 8;
  const observed = await connectedClient("ticks", {
    // Checks the watchdog every tick interval instead of the default 1 s, so a late tick is caught sooner.
    tickWatchMinIntervalMs: gateway.tickIntervalMs / 2,
  });
  try {
    assert.equal(observed.log.hellos[0]?.policy?.tickIntervalMs, gateway.tickIntervalMs,
      "hello-ok must advertise the configured interval, or the watchdog would not be tested at that interval");

    await observed.waitFor(`${ticksWanted} ticks`, (log) => log.closes.length > 0
      || log.events.filter((frame) => frame.event === "tick").length >= ticksWanted,
    gateway.tickIntervalMs * ticksWanted * 3);

    assert.deepEqual(observed.log.closes, [], "no close (a 4000 \"tick timeout\" would mean ticks came too late)");
    assert.equal(observed.log.attempts, 1, "no reconnect");
    assert.equal(observed.log.hellos.length, 1);

    const ticks = observed.eventsNamed("tick");
    for (const tick of ticks) assert.ok(Number.isSafeInteger(tick.payload?.ts), `tick payload.ts: ${JSON.stringify(tick)}`);
    const times = ticks.map((tick) => tick.payload.ts);
    const widestGap = Math.max(...times.slice(1).map((ts, i) => ts - times[i]));
    assert.ok(widestGap < 2 * gateway.tickIntervalMs, `ticks ${widestGap}ms apart, the watchdog allows ${2 * gateway.tickIntervalMs}ms`);
    const seqs = ticks.map((tick) => tick.seq);
    assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]), `tick seqs increase: ${seqs}`);
    assert.deepEqual(observed.log.gaps, [], "no seq gaps");
  } finally {
    await observed.stop();
  }
});
