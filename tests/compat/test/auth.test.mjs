// A wrong shared token must make the reference client give up instead of hammering the gateway.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { killAllGateways, startGateway } from "../lib/gateway.mjs";
import { observedClient, stopAllClients } from "../lib/client.mjs";
import { delay } from "../lib/wait.mjs";

// The client's first retry would come 1 s after the failure (backoff 1 s, 2 s, 4 s …),
// so watching for 2.5 s would see up to two retries if the client had not paused.
const NO_RETRY_WINDOW_MS = 2_500;

let gateway;

before(async () => {
  gateway = await startGateway({ label: "auth" });
});

after(async () => {
  await stopAllClients();
  await gateway?.stop();
  killAllGateways();
});

test("a wrong token reports AUTH_TOKEN_MISMATCH and stops reconnecting", async () => {
  const observed = observedClient({ url: gateway.url, token: `${gateway.token}-wrong` }, { name: "wrong-token" });
  observed.start();
  try {
    // A second attempt means the client did not pause: fail now rather than at the timeout.
    await observed.waitFor("onReconnectPaused", (log) => log.paused.length > 0 || log.attempts > 1);
    const [paused] = observed.log.paused;
    assert.ok(paused, `reconnect paused before a second attempt:\n${observed.describe()}`);
    assert.equal(paused.detailCode, "AUTH_TOKEN_MISMATCH", JSON.stringify(paused));
    assert.equal(paused.code, 1008, `closed with 1008: ${JSON.stringify(paused)}`);

    const [rejection] = observed.log.connectErrors;
    assert.ok(rejection, "onConnectError reported the rejected connect");
    assert.equal(rejection.gatewayCode, "INVALID_REQUEST", `${rejection}`);
    assert.equal(rejection.details?.code, "AUTH_TOKEN_MISMATCH", JSON.stringify(rejection.details));
    assert.match(rejection.message, /token mismatch/);

    // Absence of retries can only be shown by watching for a while.
    const attemptsWhenPaused = observed.log.attempts;
    await delay(NO_RETRY_WINDOW_MS);
    assert.equal(attemptsWhenPaused, 1, "only the one rejected attempt before pausing");
    assert.equal(observed.log.attempts, 1, `no reconnect attempts within ${NO_RETRY_WINDOW_MS}ms:\n${observed.describe()}`);
    assert.equal(observed.log.hellos.length, 0);
    assert.equal(observed.log.paused.length, 1);
  } finally {
    await observed.stop();
  }

  // The rejection must be about the token, not a gateway that refuses everyone.
  const control = observedClient(gateway, { name: "right-token" });
  control.start();
  try {
    await control.waitFor("hello-ok with the right token", (log) => log.hellos.length > 0);
  } finally {
    await control.stop();
  }
});

// The client closes as soon as it reads the error, while the gateway's own 1008 is already queued behind it:
// the close the client reports must be the gateway's every time, or it would retry instead of pausing.
const RACE_RUNS = 50;

test(`the gateway's 1008 wins over the client's own close, ${RACE_RUNS} times in a row`, async () => {
  for (let run = 1; run <= RACE_RUNS; run++) {
    const observed = observedClient({ url: gateway.url, token: `${gateway.token}-wrong` }, { name: `race-${run}` });
    observed.start();
    try {
      await observed.waitFor("onReconnectPaused", (log) => log.paused.length > 0 || log.attempts > 1);
      const [paused] = observed.log.paused;
      assert.ok(paused, `run ${run}: reconnect paused before a second attempt:\n${observed.describe()}`);
      assert.equal(paused.code, 1008, `run ${run}: closed with 1008: ${JSON.stringify(paused)}`);
    } finally {
      await observed.stop();
    }
  }
});
