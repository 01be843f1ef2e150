// Validates deploy/kubernetes/*.yaml offline: every object against the Kubernetes JSON schemas
// (kubernetes-models' objects validate themselves), then the rules the gateway depends on that no
// schema knows (labels that must match, probes on the right paths, RBAC for pod discovery, ...).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const manifests = join(root, "deploy", "kubernetes");

const documents = readdirSync(manifests)
  .filter((name) => name.endsWith(".yaml"))
  .sort()
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(manifests, file), "utf8")).map((doc, index) => {
      assert.equal(doc.errors.length, 0, `${file} #${index}: ${doc.errors.join("; ")}`);
      return { file, index, object: doc.toJS() };
    }),
  );

const one = (kind) => {
  const found = documents.filter((d) => d.object.kind === kind).map((d) => d.object);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0];
};

/** kubernetes-models/<group>/<version> exports one class per kind, e.g. apps/v1 → Deployment. */
async function modelOf({ apiVersion, kind }) {
  const module = await import(`kubernetes-models/${apiVersion}`);
  assert.ok(module[kind], `kubernetes-models has no ${kind} in ${apiVersion}`);
  return module[kind];
}

for (const { file, index, object } of documents) {
  test(`${file} #${index} ${object.kind} ${object.metadata?.name} is a valid ${object.apiVersion} object`, async () => {
    const Model = await modelOf(object);
    new Model(object).validate();
  });
}

test("an invalid object is refused (the validation can fail)", async () => {
  const Model = await modelOf({ apiVersion: "apps/v1", kind: "Deployment" });
  const broken = structuredClone(one("Deployment"));
  broken.spec.replicas = "three";
  assert.throws(() => new Model(broken).validate());
});

const deployment = one("Deployment");
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
const ports = Object.fromEntries(container.ports.map((p) => [p.name, p.containerPort]));

test("the Service, the PodDisruptionBudget and pod discovery select the Deployment's pods", () => {
  const labels = deployment.spec.template.metadata.labels;
  const matches = (selector) => Object.entries(selector).every(([key, value]) => labels[key] === value);
  assert.ok(matches(deployment.spec.selector.matchLabels));
  assert.ok(matches(one("Service").spec.selector));
  assert.ok(matches(one("PodDisruptionBudget").spec.selector.matchLabels));
  const [key, value] = env.PRESENCE_CLUSTER_POD_LABEL_SELECTOR.value.split("=");
  assert.equal(labels[key], value);
});

test("the pods' service account may list pods, as Kubernetes API discovery does", () => {
  const binding = one("RoleBinding");
  const role = one("Role");
  assert.equal(one("ServiceAccount").metadata.name, pod.serviceAccountName);
  assert.ok(binding.subjects.some((s) => s.kind === "ServiceAccount" && s.name === pod.serviceAccountName));
  assert.equal(binding.roleRef.name, role.metadata.name);
  const podRule = role.rules.find((r) => r.apiGroups.includes("") && r.resources.includes("pods"));
  assert.ok(podRule, "no rule for pods");
  for (const verb of ["get", "list", "watch"]) assert.ok(podRule.verbs.includes(verb), `pods: ${verb} missing`);
});

test("bootstrap uses Kubernetes discovery, probes the port named management, and needs as many peers as replicas", () => {
  assert.equal(env.PRESENCE_CLUSTER_DISCOVERY.value, "kubernetes");
  assert.equal(String(ports.management), env.PRESENCE_MANAGEMENT_PORT.value);
  assert.equal(Number(env.PRESENCE_CLUSTER_REQUIRED_CONTACT_POINTS.value), deployment.spec.replicas);
  assert.equal(env.PRESENCE_CLUSTER_HOSTNAME.valueFrom.fieldRef.fieldPath, "status.podIP");
  const clusterPort = container.args[container.args.indexOf("--cluster-port") + 1];
  assert.equal(String(ports.remoting), clusterPort);
});

test("readiness is /readyz and liveness /healthz, on the WebSocket port", () => {
  const gatewayPort = container.args[container.args.indexOf("--port") + 1];
  assert.equal(String(ports.websocket), gatewayPort);
  assert.deepEqual([container.readinessProbe.httpGet.path, container.readinessProbe.httpGet.port], ["/readyz", "websocket"]);
  assert.deepEqual([container.livenessProbe.httpGet.path, container.livenessProbe.httpGet.port], ["/healthz", "websocket"]);
  assert.equal(one("Service").spec.ports[0].targetPort, "websocket");
});

test("the token comes from a Secret, and auth is on beyond loopback", () => {
  assert.ok(env.PRESENCE_GATEWAY_TOKEN.valueFrom.secretKeyRef.name);
  assert.equal(env.PRESENCE_GATEWAY_TOKEN.value, undefined);
  assert.equal(container.args[container.args.indexOf("--auth") + 1], "token");
});

test("termination grace covers preStop, the clients' shutdown notice and leaving the cluster", () => {
  const preStop = Number(container.lifecycle.preStop.exec.command.at(-1));
  // GatewayApp's host ShutdownTimeout (10 s) plus CoordinatedShutdown's cluster leave (a few seconds).
  assert.ok(pod.terminationGracePeriodSeconds >= preStop + 10 + 5, `grace ${pod.terminationGracePeriodSeconds} s`);
});

test("a rolling update replaces one pod at a time and never drops below the replicas", () => {
  assert.equal(deployment.spec.strategy.type, "RollingUpdate");
  assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
  assert.equal(deployment.spec.strategy.rollingUpdate.maxSurge, 1);
});

test("every PRESENCE_ variable the manifests set is one the gateway reads", () => {
  const hocon = readdirSync(join(root, "hocon")).map((f) => readFileSync(join(root, "hocon", f), "utf8")).join("\n");
  const known = new Set([...hocon.matchAll(/\$\{\?(PRESENCE_[A-Z_]+)\}/g)].map((m) => m[1]));
  for (const name of Object.keys(env).filter((n) => n.startsWith("PRESENCE_"))) assert.ok(known.has(name), `${name} is read nowhere`);
});
