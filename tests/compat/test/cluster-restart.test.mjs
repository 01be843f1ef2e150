// Issue 14 item 3 with the real client: a node of a two-node cluster is SIGTERMed and started again; the reference
// client connected to it reconnects on its own, and the other node's operator sees its row go `disconnect` and come
// back as the same single row (its instanceId is stable across the reconnect).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { freePort, killAllGateways, startGateway, waitForPortFree } from "../lib/gateway.mjs";
import { observedClient, stopAllClients } from "../lib/client.mjs";
import { withTimeout } from "../lib/wait.mjs";

// Two processes joining on two shared cores, then a restarted one rejoining: start-up dominates (see docs/reliability.md).
const CLUSTER_TIMEOUT_MS = 90_000;
const INSTANCE_ID = "compat-cluster-restart";

after(async () => {
  await stopAllClients();
  killAllGateways();
});

const presenceLists = (observed) => observed.eventsNamed("presence").map((frame) => frame.payload?.presence ?? []);
const rowsOf = (list) => list.filter((row) => row.instanceId === INSTANCE_ID);
const selfRows = (list) => list.filter((row) => row.reason === "self").length;

test("a client of a restarted cluster node reconnects and its row comes back as one row, disconnect in between", async () => {
  const clusterPorts = [await freePort(), await freePort()];
  const seeds = clusterPorts.flatMap((port) => ["--seed", `127.0.0.1:${port}`]);
  const nodeArgs = (i) => ["--cluster", "--cluster-port", String(clusterPorts[i]), ...seeds];
  const token = `compat-cluster-${Date.now()}`;
  const [a, b] = await Promise.all([
    startGateway({ label: "cluster-a", token, extraArgs: nodeArgs(0) }),
    startGateway({ label: "cluster-b", token, extraArgs: nodeArgs(1) }),
  ]);
  const operator = observedClient(a, { name: "operator-on-a" });
  const tracked = observedClient(b, { name: "client-on-b", instanceId: INSTANCE_ID });
  let restarted;
  try {
    operator.start();
    tracked.start();
    const row = (list) => rowsOf(list)[0];
    await operator.waitFor("the client of b in a's view, the cluster formed",
      () => presenceLists(operator).some((list) => selfRows(list) === 2 && rowsOf(list).length === 1 && row(list).reason !== "disconnect"),
      CLUSTER_TIMEOUT_MS);

    const stopping = b.stop();
    const close = await tracked.waitFor("close after SIGTERM of b", (log) => log.closes[0]);
    assert.equal(close.code, 1012, `close code: ${JSON.stringify(close)}\n${tracked.describe()}`);
    await operator.waitFor("the client's row as disconnect in a's view",
      () => presenceLists(operator).some((list) => row(list)?.reason === "disconnect"), 30_000);
    const exit = await withTimeout(stopping, 15_000, "b to exit after SIGTERM");
    assert.ok(!exit.killed, `b exited on SIGTERM without SIGKILL (code=${exit.code} signal=${exit.signal})`);
    await waitForPortFree(b.port);
    await waitForPortFree(clusterPorts[1]);
    const listsBeforeRestart = presenceLists(operator).length;

    restarted = await startGateway({ label: "cluster-b-again", port: b.port, token, extraArgs: nodeArgs(1) });
    await tracked.waitFor("hello-ok from the restarted b", (log) => log.hellos.length >= 2, CLUSTER_TIMEOUT_MS);
    await operator.waitFor("the client's row back in a's view",
      () => presenceLists(operator).slice(listsBeforeRestart).some((list) => selfRows(list) === 2 && rowsOf(list).length === 1 && row(list).reason !== "disconnect"),
      CLUSTER_TIMEOUT_MS);

    const lists = presenceLists(operator);
    assert.ok(lists.every((list) => rowsOf(list).length <= 1), "the client never shows as two rows in a's view");
    assert.equal(operator.log.closes.length, 0, `the operator on a kept its socket:\n${operator.describe()}`);
    const view = await operator.request("system-presence", {});
    assert.equal(rowsOf(view).length, 1, JSON.stringify(view));
    assert.notEqual(rowsOf(view)[0].reason, "disconnect");
  } finally {
    await tracked.stop();
    await operator.stop();
    await restarted?.stop();
    await b.stop();
    await a.stop();
  }
});
