// Starts the Presence gateway under test as a child process and stops it the way an
// operator would (SIGTERM), so the suites exercise the real shutdown path.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const compatRoot = path.resolve(here, "..");
const repoRoot = path.resolve(compatRoot, "../..");

export const HOST = "127.0.0.1";
/** Short enough that the client's tick watchdog (2 × interval) would fire within a test. */
export const TICK_INTERVAL_MS = 500;
const READY_TIMEOUT_MS = Number(process.env.COMPAT_GATEWAY_READY_TIMEOUT_MS ?? 30_000);
const STOP_TIMEOUT_MS = 10_000;
const LOG_DIR = path.join(compatRoot, "artifacts");

const live = new Set();
// Process groups outlive their leader when `dotnet run` exits before the app it launched.
const groups = new Set();

/** How to launch the gateway: an apphost/other executable, the built DLL, or `dotnet run` as a last resort. */
function gatewayCommand(args) {
  if (process.env.PRESENCE_GATEWAY_CMD) return { file: process.env.PRESENCE_GATEWAY_CMD, args };
  if (process.env.PRESENCE_GATEWAY_DLL) return { file: "dotnet", args: [process.env.PRESENCE_GATEWAY_DLL, ...args] };
  const project = path.join(repoRoot, "src/Presence.Gateway");
  return { file: "dotnet", args: ["run", "--no-build", "-c", "Release", "--project", project, "--", ...args] };
}

/** A port the kernel just handed out; another process could still grab it, which is acceptable on a test box. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function portAcceptsConnections(port) {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: HOST, port });
    socket.setTimeout(1_000);
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

/**
 * Waits until nothing listens on the port any more. With `dotnet run` the signalled
 * launcher can exit before the app has released its socket, and a restart on the same
 * port must not race it.
 */
export async function waitForPortFree(port, timeoutMs = STOP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (!(await portAcceptsConnections(port))) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} still accepts connections ${timeoutMs}ms after the gateway was stopped`);
}

/**
 * Starts a gateway and resolves once it printed its listening line.
 * With `tlsDataDir`, the gateway serves wss:// with the self-signed certificate of --tls-auto kept in that
 * directory, and the result carries the SHA-256 fingerprint it printed, as a user would copy it.
 * `extraArgs` go after the suite's own (e.g. `--cluster --cluster-port … --seed …` for a cluster node).
 * @param {{ label: string, port?: number, token?: string, tickIntervalMs?: number, tlsDataDir?: string, extraArgs?: string[] }} options
 */
export async function startGateway({ label, port, token, tickIntervalMs = TICK_INTERVAL_MS, tlsDataDir, extraArgs = [] }) {
  port ??= await freePort();
  token ??= `compat-${randomUUID()}`;
  const args = ["--port", String(port), "--bind", "loopback", "--auth", "token", "--token", token,
    "--tick-interval", `${tickIntervalMs}ms`, ...(tlsDataDir ? ["--tls-auto", "--data-dir", tlsDataDir] : []), ...extraArgs];
  const { file, args: argv } = gatewayCommand(args);

  mkdirSync(LOG_DIR, { recursive: true });
  const logPath = path.join(LOG_DIR, `gateway-${label}-${port}-${Date.now()}.log`);
  const logFile = createWriteStream(logPath);
  logFile.write(`$ ${file} ${argv.map((a) => (a === token ? "<token>" : a)).join(" ")}\n`);

  // Own process group: with `dotnet run` the signal must reach the app, not just the launcher.
  const child = spawn(file, argv, {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DOTNET_NOLOGO: "1", DOTNET_CLI_TELEMETRY_OPTOUT: "1" },
  });
  live.add(child);
  groups.add(child.pid);

  let output = "";
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once("error", (error) => {
      live.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });
  exited.then(({ code, signal, error }) => logFile.end(`\n[exit code=${code} signal=${signal}${error ? ` error=${error.message}` : ""}]\n`));

  const scheme = tlsDataDir ? "wss" : "ws";
  const expected = `listening on ${scheme}://${HOST}:${port}`;
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      const text = chunk.toString("utf8");
      output += text;
      if (output.length > 64_000) output = output.slice(-32_000);
      if (output.includes(expected)) resolve();
    };
    // stderr too: where the line lands depends on the host's logging setup, not on readiness.
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.stdout.pipe(logFile, { end: false });
    child.stderr.pipe(logFile, { end: false });
    exited.then(({ code, signal, error }) =>
      reject(new Error(`gateway exited before "${expected}" (code=${code} signal=${signal}${error ? ` ${error.message}` : ""}); log ${logPath}:\n${output.slice(-4_000)}`)));
  });

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gateway did not print "${expected}" within ${READY_TIMEOUT_MS}ms; log ${logPath}:\n${output.slice(-4_000)}`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    killGroup(child, "SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    port,
    token,
    url: `${scheme}://${HOST}:${port}`,
    /** The certificate's SHA-256 fingerprint from the start-up log (AB:CD:…), with TLS on. */
    fingerprint: output.match(/SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/)?.[1],
    tickIntervalMs,
    logPath,
    exited,
    output: () => output,
    /** Graceful stop; escalates to SIGKILL so a hung gateway cannot hang the suite. */
    async stop(timeoutMs = STOP_TIMEOUT_MS) {
      if (!live.has(child)) return exited;
      killGroup(child, "SIGTERM");
      let escalation;
      const result = await Promise.race([
        exited,
        new Promise((resolve) => {
          escalation = setTimeout(() => {
            killGroup(child, "SIGKILL");
            resolve(exited.then((r) => ({ ...r, killed: true })));
          }, timeoutMs);
        }),
      ]);
      clearTimeout(escalation);
      return result;
    },
  };
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** For after() hooks: nothing the suite started may outlive it. */
export function killAllGateways() {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // group already gone
    }
  }
  groups.clear();
}

process.once("exit", killAllGateways);
