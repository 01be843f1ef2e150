// wss:// served by the gateway itself (--tls-auto): the reference client pins the self-signed certificate by the
// fingerprint the gateway printed, exactly as OpenClaw's own clients pin a self-signed OpenClaw gateway.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { killAllGateways, startGateway } from "../lib/gateway.mjs";
import { observedClient, stopAllClients } from "../lib/client.mjs";

let gateway;
let dataDir;

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "presence-compat-tls-"));
  gateway = await startGateway({ label: "tls", tlsDataDir: dataDir });
});

after(async () => {
  await stopAllClients();
  await gateway?.stop();
  killAllGateways();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("the gateway prints a wss:// URL and the SHA-256 fingerprint of its certificate", () => {
  assert.match(gateway.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
  assert.match(gateway.fingerprint ?? "", /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, gateway.output().slice(-2_000));
});

test("the reference client pinned by that fingerprint connects over wss:// and sees system-presence", async () => {
  const observed = observedClient(gateway, { name: "pinned", tlsFingerprint: gateway.fingerprint, instanceId: "compat-tls-pinned" });
  observed.start();
  try {
    const [hello] = await observed.waitFor("hello-ok over wss://", (log) => (log.hellos.length > 0 ? log.hellos : null));
    assert.ok(hello.snapshot?.presence?.some((row) => row.reason === "self"), "the hello snapshot lists the gateway");
    const list = await observed.request("system-presence");
    assert.ok(list.some((row) => row.instanceId === "compat-tls-pinned"), JSON.stringify(list));
  } finally {
    await observed.stop();
  }
});

test("a wrong fingerprint is refused before anything is sent", async () => {
  const wrong = gateway.fingerprint.split(":").map((pair, i) => (i === 0 ? (pair === "00" ? "01" : "00") : pair)).join(":");
  const observed = observedClient(gateway, { name: "mispinned", tlsFingerprint: wrong });
  observed.start();
  try {
    const failure = await observed.waitFor("the pin to refuse the certificate", (log) =>
      [...log.connectErrors.map((error) => error?.message), ...log.clientErrors, ...log.closes.map((close) => close.reason)]
        .find((message) => /fingerprint mismatch/.test(message ?? "")));
    assert.match(failure, /gateway tls fingerprint mismatch/);
    assert.equal(observed.log.hellos.length, 0, "no hello-ok through a mismatched pin");
  } finally {
    await observed.stop();
  }
});
