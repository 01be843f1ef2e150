// The Instances page: speaks the gateway protocol from the browser and keeps one table row per
// presence entry, live. Plain script, no build step; the gateway embeds and serves this file.
'use strict';

(() => {
  const config = JSON.parse(document.getElementById('instances-config').textContent);
  const TOKEN_KEY = 'presence.instances.token';
  const INSTANCE_KEY = 'presence.instances.instanceId';
  const PROTOCOL = 4;
  const CONNECT_TIMEOUT_MS = 15000;
  const BACKOFF_MAX_MS = 30000;
  // Detail codes after which retrying with the same credentials cannot succeed (as the reference client does).
  const AUTH_CODES = new Set(['AUTH_TOKEN_MISMATCH', 'AUTH_TOKEN_MISSING', 'AUTH_PASSWORD_MISMATCH', 'AUTH_PASSWORD_MISSING', 'DEVICE_IDENTITY_REQUIRED']);
  const TERMINAL_CODES = new Set(['CONTROL_UI_ORIGIN_NOT_ALLOWED', 'PROTOCOL_MISMATCH']);

  const $ = (id) => document.getElementById(id);
  const ui = {
    rows: $('rows'),
    empty: $('empty'),
    message: $('message'),
    form: $('token-form'),
    tokenInput: $('token-input'),
    connection: $('connection'),
    connectionText: $('connection-text'),
    gatewayInfo: $('gateway-info'),
    filter: $('filter'),
    details: $('details'),
    detailsTitle: $('details-title'),
    detailsText: $('details-text'),
    detailsCopy: $('details-copy'),
    counts: { active: $('count-active'), left: $('count-left'), idle: $('count-idle'), stale: $('count-stale'), total: $('count-total') },
    nodes: { wrap: $('count-nodes-wrap'), count: $('count-nodes'), word: $('count-nodes-word') },
  };

  const state = {
    entries: [],
    stateVersion: 0,
    // Gateway clock minus ours: row ages are measured on the gateway's clock, whatever this machine's says.
    skewMs: 0,
    rows: new Map(),
    renderQueued: false,
    socket: null,
    attempt: 0,
    retryAt: 0,
    retryTimer: 0,
    stopped: false,
    // Column the operator sorted by ('' = the gateway first, then by host) and its direction.
    sort: { by: '', descending: false },
    filter: '',
    selected: null,
    // The latest answer to presence-gateway.instances ({rows, nodes}), or null: a gateway without it gets no tags.
    origins: null,
  };

  const INSTANCES_METHOD = 'presence-gateway.instances';

  // ---- token ----------------------------------------------------------------------------

  /** A #token= fragment is moved into sessionStorage and out of the address bar (and history). */
  function adoptFragmentToken() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (!params.has('token')) return;
    sessionStorage.setItem(TOKEN_KEY, params.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  /** One stable id per tab, so that a reconnect updates this page's own row instead of adding one. */
  function instanceId() {
    let id = sessionStorage.getItem(INSTANCE_KEY);
    if (!id) {
      // getRandomValues, not randomUUID: the latter needs a secure context, and a LAN gateway is plain http.
      const bytes = crypto.getRandomValues(new Uint8Array(8));
      id = 'instances-page-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      sessionStorage.setItem(INSTANCE_KEY, id);
    }
    return id;
  }

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, ui.tokenInput.value.trim());
    ui.tokenInput.value = '';
    ui.form.hidden = true;
    showMessage('');
    state.stopped = false;
    state.attempt = 0;
    reconnectNow();
  });

  // ---- connection -----------------------------------------------------------------------

  function setConnection(kind, text) {
    ui.connection.dataset.state = kind;
    ui.connectionText.textContent = text;
  }

  function showMessage(text, kind) {
    ui.message.textContent = text;
    ui.message.hidden = !text;
    if (kind) ui.message.dataset.kind = kind;
    else delete ui.message.dataset.kind;
  }

  function connect() {
    clearTimeout(state.retryTimer);
    state.retryAt = 0;
    setConnection('connecting', state.attempt ? `Reconnecting… (attempt ${state.attempt + 1})` : 'Connecting…');
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`);
    state.socket = socket;
    // origins: the instances read of this socket, once hello-ok says the gateway has it (see refreshOrigins).
    const session = { connectId: null, helloTimer: 0, watchdog: 0, tickMs: 30000, failed: null, origins: null };

    // No frame for two tick intervals means the gateway (or the path to it) is gone.
    const armWatchdog = () => {
      clearTimeout(session.watchdog);
      session.watchdog = setTimeout(() => socket.close(4000, 'tick timeout'), session.tickMs * 2);
    };

    socket.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      armWatchdog();
      if (frame.type === 'event') onEvent(socket, session, frame);
      else if (frame.type === 'res' && frame.id === session.connectId) onHello(socket, session, frame);
      else if (frame.type === 'res' && session.origins && frame.id === session.origins.inFlight) onOrigins(socket, session, frame);
    });
    socket.addEventListener('close', (event) => {
      clearTimeout(session.helloTimer);
      clearTimeout(session.watchdog);
      if (state.socket !== socket) return;
      state.socket = null;
      onClosed(event, session.failed);
    });
    armWatchdog();
  }

  function onEvent(socket, session, frame) {
    const payload = frame.payload || {};
    switch (frame.event) {
      case 'connect.challenge':
        sendConnect(socket, session);
        break;
      case 'presence':
        if (Array.isArray(payload.presence)) {
          applyPresence(payload.presence, frame.stateVersion && frame.stateVersion.presence);
          refreshOrigins(socket, session);
        }
        break;
      case 'tick':
        syncClock(payload.ts);
        break;
      case 'shutdown':
        setConnection('connecting', 'Gateway restarting…');
        break;
      default:
        break;
    }
  }

  function sendConnect(socket, session) {
    session.connectId = `connect-${Date.now()}`;
    const client = {
      id: 'webchat-ui',
      version: config.version,
      platform: (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || 'browser',
      deviceFamily: 'Browser',
      mode: 'webchat',
      displayName: 'Instances page',
      instanceId: instanceId(),
    };
    const params = { minProtocol: PROTOCOL, maxProtocol: PROTOCOL, client, caps: [], role: 'operator', scopes: ['operator.read'] };
    if (token()) params.auth = { token: token() };
    socket.send(JSON.stringify({ type: 'req', id: session.connectId, method: 'connect', params }));
    session.helloTimer = setTimeout(() => socket.close(4000, 'connect timeout'), CONNECT_TIMEOUT_MS);
  }

  function onHello(socket, session, frame) {
    clearTimeout(session.helloTimer);
    if (!frame.ok) {
      // The gateway closes the socket right after an error; the close handler acts on what it said.
      session.failed = frame.error || { code: 'UNKNOWN', message: 'connect failed' };
      return;
    }
    const hello = frame.payload || {};
    const snapshot = hello.snapshot || {};
    if (hello.policy && hello.policy.tickIntervalMs > 0) session.tickMs = hello.policy.tickIntervalMs;
    syncClock(snapshot.health && snapshot.health.ts);
    state.attempt = 0;
    showMessage('');
    ui.form.hidden = true;
    setConnection('connected', 'Connected');
    ui.gatewayInfo.textContent = `Gateway ${(hello.server && hello.server.version) || ''} · ${location.host}`;
    applyPresence(snapshot.presence || [], snapshot.stateVersion && snapshot.stateVersion.presence, true);
    const methods = (hello.features && hello.features.methods) || [];
    // Only this gateway has the instances read; an OpenClaw gateway would answer "unknown method", so it is not asked.
    session.origins = methods.includes(INSTANCES_METHOD) ? { inFlight: null, due: false, seq: 0 } : null;
    state.origins = null;
    refreshOrigins(socket, session);
  }

  // ---- where rows come from -------------------------------------------------------------

  /**
   * Asks for each row's key and node after a list arrives. One request at a time: a list that comes while one is
   * out only marks another as due, sent when the answer arrives, so a burst of events costs two requests, not one each.
   */
  function refreshOrigins(socket, session) {
    const origins = session.origins;
    if (!origins) return;
    if (origins.inFlight) {
      origins.due = true;
      return;
    }
    origins.due = false;
    origins.inFlight = `instances-${++origins.seq}`;
    socket.send(JSON.stringify({ type: 'req', id: origins.inFlight, method: INSTANCES_METHOD }));
  }

  function onOrigins(socket, session, frame) {
    session.origins.inFlight = null;
    if (!frame.ok) {
      // Listed but refused (say, by a proxy in between): the page goes on without tags rather than asking again.
      session.origins = null;
      state.origins = null;
    } else {
      state.origins = frame.payload || null;
    }
    queueRender();
    if (session.origins && session.origins.due) refreshOrigins(socket, session);
  }

  /**
   * Pairs each entry with its row of the answer, as InstancesTable.WithOrigins does for `instances`: the same
   * instanceId (case-insensitively, or both without) and the same ts, else the nearest ts (a live connection's row is
   * renewed without an event, so the answer may be newer than the list); among those, one with the same text first,
   * since rows without an instanceId written in the same millisecond differ by nothing else.
   */
  function pairOrigins(entries, answer) {
    const paired = new Map();
    if (!answer || !Array.isArray(answer.rows)) return paired;
    const idOf = (value) => String(value || '').toLowerCase();
    const textDiffers = (row, entry) => (String(row.text || '') === String(entry.text || '') ? 0 : 1);
    const closer = (row, best, entry) => {
      const byText = textDiffers(row, entry) - textDiffers(best, entry);
      return byText !== 0 ? byText < 0 : Math.abs(row.ts - entry.ts) < Math.abs(best.ts - entry.ts);
    };
    const free = answer.rows.slice();
    for (const exact of [true, false]) {
      for (const entry of entries) {
        if (paired.has(entry)) continue;
        let best = -1;
        for (let i = 0; i < free.length; i++) {
          const row = free[i];
          if (!row || idOf(row.instanceId) !== idOf(entry.instanceId) || (exact && row.ts !== entry.ts)) continue;
          if (best < 0 || closer(row, free[best], entry)) best = i;
        }
        if (best >= 0) {
          paired.set(entry, free[best]);
          free[best] = null;
        }
      }
    }
    return paired;
  }

  /** Nodes the list spans: the members, and any node whose rows stay after it left. */
  function nodeCount(answer, paired) {
    if (!answer) return 0;
    const nodes = new Set((answer.nodes || []).map((node) => node.address));
    for (const row of paired.values()) nodes.add(row.node);
    return nodes.size;
  }

  function onClosed(event, error) {
    const code = error && error.details && error.details.code;
    if (error && AUTH_CODES.has(code)) {
      const text = code === 'DEVICE_IDENTITY_REQUIRED'
        ? 'This gateway needs a token. Enter it below to connect.'
        : `The gateway rejected the token: ${error.message}. Enter the right token below.`;
      return stop(text, 'auth', 'Not connected: token rejected', true);
    }
    if (error && TERMINAL_CODES.has(code)) {
      return stop(`The gateway refused this page: ${error.message}.`, 'refused', 'Not connected', false);
    }
    if (error) showMessage(`The gateway refused the connection: ${error.message}. Retrying.`, 'retry');
    const retryAfter = error && error.retryAfterMs;
    scheduleReconnect(retryAfter > 0 ? retryAfter : backoff(state.attempt), event.code);
  }

  function stop(text, kind, status, askForToken) {
    state.stopped = true;
    showMessage(text, kind);
    setConnection('failed', status);
    ui.form.hidden = !askForToken;
    if (askForToken) ui.tokenInput.focus();
  }

  /** 1 s, 2 s, 4 s … up to 30 s, with jitter so that many pages do not come back in step. */
  function backoff(attempt) {
    const base = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** attempt);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  function scheduleReconnect(delayMs) {
    if (state.stopped) return;
    state.attempt += 1;
    state.retryAt = Date.now() + delayMs;
    showRetryCountdown();
    state.retryTimer = setTimeout(connect, delayMs);
  }

  function showRetryCountdown() {
    if (!state.retryAt) return;
    const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
    setConnection('reconnecting', `Disconnected · retrying in ${seconds}s`);
  }

  function reconnectNow() {
    clearTimeout(state.retryTimer);
    if (state.socket) {
      const old = state.socket;
      state.socket = null;
      old.close(1000, 'reconnect');
    }
    connect();
  }

  function syncClock(serverTs) {
    if (Number.isFinite(serverTs)) state.skewMs = serverTs - Date.now();
  }

  const gatewayNow = () => Date.now() + state.skewMs;

  // ---- rendering ------------------------------------------------------------------------

  function applyPresence(entries, version, fromHello) {
    // A list older than the one shown (possible across a reconnect) would step back in time.
    if (!fromHello && Number.isFinite(version) && version < state.stateVersion) return;
    if (Number.isFinite(version)) state.stateVersion = version;
    state.entries = entries;
    // Bursts of events are folded into one render per frame: only the latest list matters.
    queueRender();
  }

  const isGatewayRow = (entry) => entry.mode === 'gateway' && entry.reason === 'self';

  const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

  /** The gateway first, then by host: a stable order, so rows do not jump each time one is updated. */
  function ordered(entries) {
    const keyed = [];
    const seen = new Map();
    for (const entry of entries) {
      const base = String(entry.deviceId || entry.instanceId || `${entry.host || ''}|${entry.ip || ''}|${entry.mode || ''}|${entry.text || ''}`).toLowerCase();
      const n = (seen.get(base) || 0) + 1;
      seen.set(base, n);
      // Rows without a stable id can repeat (a client that reconnects without instanceId); the n-th stays the n-th.
      keyed.push({ key: n === 1 ? base : `${base}#${n}`, entry });
    }
    const byKey = (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const byHost = (a, b) => collator.compare(a.entry.host || '', b.entry.host || '');
    const now = gatewayNow();
    const compare = {
      status: (a, b) => STATUSES.indexOf(statusOf(now - (a.entry.ts || 0), a.entry)) - STATUSES.indexOf(statusOf(now - (b.entry.ts || 0), b.entry)),
      host: byHost,
      // Most recently updated first when ascending: what an operator looks for.
      updated: (a, b) => (b.entry.ts || 0) - (a.entry.ts || 0),
    }[state.sort.by];
    if (!compare) return keyed.sort((a, b) => (isGatewayRow(b.entry) - isGatewayRow(a.entry)) || byHost(a, b) || byKey(a, b));
    const sign = state.sort.descending ? -1 : 1;
    return keyed.sort((a, b) => sign * compare(a, b) || byHost(a, b) || byKey(a, b));
  }

  /** Whether a row shows under the filter: every word must appear in one of its fields. */
  function matches(entry) {
    if (!state.filter) return true;
    const haystack = [entry.host, entry.instanceId, entry.ip, entry.mode, entry.version, deviceOf(entry), entry.deviceId, entry.reason, entry.text]
      .filter(Boolean).join(' ').toLowerCase();
    return state.filter.split(/\s+/).every((word) => haystack.includes(word));
  }

  const CELLS = ['status', 'host', 'instance', 'ip', 'version', 'device', 'mode', 'last-input', 'updated'];

  const deviceOf = (entry) => [entry.deviceFamily, entry.modelIdentifier, entry.platform].filter(Boolean).join(' · ');
  const CONNECTION_REASONS = new Set(['connect', 'disconnect', 'node-connected', 'node-disconnected']);

  /**
   * As InstanceDoctor (instances --doctor): rows with the same host and device, at least one without instanceId,
   * look like the same client. Returns, per such entry, the check that applies and the fix, in plain words.
   */
  function lookAlikes(entries) {
    const groups = new Map();
    for (const entry of entries) {
      if (isGatewayRow(entry) || !entry.host) continue;
      const key = `${String(entry.host).toLowerCase()}|${deviceOf(entry).toLowerCase()}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(entry);
    }
    const found = new Map();
    for (const group of groups.values()) {
      if (group.length < 2 || group.every((entry) => entry.instanceId)) continue;
      const others = group.length - 1;
      for (const entry of group) {
        const same = `${entry.host} has ${others} other ${others === 1 ? 'row' : 'rows'} that look like the same client (${deviceOf(entry) || '—'}).`;
        if (!entry.instanceId && CONNECTION_REASONS.has(entry.reason)) {
          found.set(entry, { check: 3, text: `${same} This row came from a connection that sent no client.instanceId, so it is keyed by that connection alone: an expected duplicate, and every reconnect adds another. Fix in the client: send a stable client.instanceId in its connect request.` });
        } else if (!entry.instanceId) {
          found.set(entry, { check: 2, text: `${same} This row came from a system-event beacon without instanceId, so it could not merge into the client's connection row. Fix in the client: send the same instanceId in every beacon as in its connect request.` });
        } else {
          found.set(entry, { check: 1, text: `${same} This row has instanceId ${entry.instanceId}; the look-alike without one is the duplicate. Fix in the client: send this same client.instanceId in every connect and beacon, and keep it across restarts.` });
        }
      }
    }
    return found;
  }

  function createRow(key) {
    const tr = document.createElement('tr');
    tr.dataset.key = key;
    const row = { tr, key, entry: null, text: {}, status: '', source: '' };
    for (const name of CELLS) {
      const td = document.createElement('td');
      td.className = name;
      if (name === 'status') {
        row.dot = document.createElement('span');
        row.dot.className = 'dot';
        td.append(row.dot);
      }
      if (name === 'updated') {
        // "8s ago · connect": the age changes every second, the source only with the row.
        row.text.updated = td.appendChild(document.createTextNode(''));
        td.append(' · ');
        row.sourceEl = td.appendChild(document.createElement('span'));
        row.sourceEl.className = 'source';
      } else {
        row.text[name] = td.appendChild(document.createTextNode(''));
      }
      if (name === 'instance') {
        row.keyEl = document.createElement('span');
        row.keyEl.className = 'key';
        row.keyEl.hidden = true;
        td.append(row.keyEl);
      }
      if (name === 'host') {
        row.badge = document.createElement('span');
        row.badge.className = 'badge';
        row.badge.textContent = 'gateway';
        row.badge.hidden = true;
        td.append(row.badge);
        row.dup = document.createElement('span');
        row.dup.className = 'dup';
        row.dup.textContent = 'dup?';
        row.dup.hidden = true;
        td.append(row.dup);
        row.nodeTag = document.createElement('span');
        row.nodeTag.className = 'node-tag';
        row.nodeTag.hidden = true;
        td.append(row.nodeTag);
      }
      tr.append(td);
    }
    return row;
  }

  /** Writes a text node only when its text changed: an unchanged row costs no DOM work. */
  function setText(row, name, value) {
    const node = row.text[name];
    if (node.data !== value) node.data = value;
  }

  const dash = (value) => (value === undefined || value === null || value === '' ? '—' : String(value));

  function sourceWord(reason) {
    if (!reason) return '';
    return config.sources[reason] || String(reason).replace(/-/g, ' ');
  }

  function updateRow(row, entry, duplicate, origin, showNodes) {
    row.entry = entry;
    // The key where it says more than the instanceId: a row keyed by its device, its connection, its beacon's text…
    const key = origin && origin.key && origin.key !== String(entry.instanceId || '').trim().toLowerCase() ? origin.key : '';
    if (row.keyEl.textContent !== key) row.keyEl.textContent = key;
    if (row.keyEl.hidden === !!key) row.keyEl.hidden = !key;
    const node = showNodes && origin ? origin.node : '';
    if (row.nodeTag.textContent !== node) {
      row.nodeTag.textContent = node;
      row.nodeTag.title = node ? `From cluster node ${node}` : '';
      row.tr.dataset.node = node;
    }
    if (row.nodeTag.hidden === !!node) row.nodeTag.hidden = !node;
    setText(row, 'host', dash(entry.host));
    setText(row, 'instance', dash(entry.instanceId));
    row.dup.hidden = !duplicate;
    const why = duplicate ? duplicate.text : '';
    if (row.dup.title !== why) row.dup.title = why;
    if (duplicate) row.tr.dataset.duplicateCheck = String(duplicate.check);
    else delete row.tr.dataset.duplicateCheck;
    setText(row, 'ip', dash(entry.ip));
    setText(row, 'version', dash(entry.version));
    setText(row, 'mode', dash(entry.mode));
    setText(row, 'device', dash(deviceOf(entry)));
    const gateway = isGatewayRow(entry);
    if (row.badge.hidden === gateway) row.badge.hidden = !gateway;
    row.tr.classList.toggle('gateway', gateway);
    const source = sourceWord(entry.reason);
    if (row.source !== source) {
      row.source = source;
      row.sourceEl.textContent = source;
      row.tr.dataset.source = source;
    }
    const text = entry.text || '';
    if (row.tr.title !== text) row.tr.title = text;
  }

  function ago(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 1) return 'just now';
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)}m ago`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
    return `${Math.floor(s / 86400)}d ago`;
  }

  const departed = (entry) => config.departures.includes(entry.reason);

  /** As InstanceRows.Status: a departed row reads Left while it would be Active, then Idle and Stale by age. */
  function statusOf(ageMs, entry) {
    if (ageMs > config.idleMs) return 'stale';
    if (ageMs > config.activeMs) return 'idle';
    return departed(entry) ? 'left' : 'active';
  }

  const STATUSES = ['active', 'left', 'idle', 'stale'];
  const STATUS_LABEL = { active: 'Active', left: 'Left', idle: 'Idle', stale: 'Stale' };

  /** Everything that depends on the clock: run after each render and once a second. */
  function refreshAges() {
    const now = gatewayNow();
    const counts = { active: 0, left: 0, idle: 0, stale: 0 };
    let shown = 0;
    for (const row of state.rows.values()) {
      const entry = row.entry;
      const age = Math.max(0, now - (entry.ts || 0));
      const status = statusOf(age, entry);
      // The header counts what the table shows, so a filter narrows both.
      if (!row.tr.hidden) {
        counts[status] += 1;
        shown += 1;
      }
      if (row.status !== status) {
        row.status = status;
        row.dot.className = `dot ${status}`;
        row.tr.dataset.status = status;
        setText(row, 'status', STATUS_LABEL[status]);
      }
      // A departed row was re-stamped when its client left, so its age is the time since it left.
      setText(row, 'updated', departed(entry) ? `left ${ago(age)}` : ago(age));
      // lastInputSeconds was measured when the row was stamped, so the idle time has grown by its age since.
      setText(row, 'last-input', Number.isFinite(entry.lastInputSeconds) ? ago(entry.lastInputSeconds * 1000 + age) : '—');
    }
    for (const status of STATUSES) {
      const text = String(counts[status]);
      if (ui.counts[status].textContent !== text) ui.counts[status].textContent = text;
    }
    const total = String(shown);
    if (ui.counts.total.textContent !== total) ui.counts.total.textContent = total;
  }

  function render() {
    state.renderQueued = false;
    const list = ordered(state.entries);
    const duplicates = lookAlikes(state.entries);
    const origins = pairOrigins(state.entries, state.origins);
    const nodes = nodeCount(state.origins, origins);
    // A tag on every row says nothing while there is one node; the count in the header still does.
    ui.nodes.wrap.hidden = nodes === 0;
    ui.nodes.count.textContent = String(nodes);
    ui.nodes.word.textContent = nodes === 1 ? 'node' : 'nodes';
    ui.nodes.wrap.title = state.origins ? (state.origins.nodes || []).map((n) => `${n.address} ${n.status}${n.reachable ? '' : ', unreachable'}`).join('\n') : '';
    const live = new Set();
    let previous = null;
    for (const { key, entry } of list) {
      live.add(key);
      let row = state.rows.get(key);
      if (!row) {
        row = createRow(key);
        state.rows.set(key, row);
      }
      updateRow(row, entry, duplicates.get(entry), origins.get(entry), nodes > 1);
      const hidden = !matches(entry);
      if (row.tr.hidden !== hidden) row.tr.hidden = hidden;
      // Keyed placement: a row already in its place is not touched, so a steady list costs no layout.
      const expected = previous ? previous.tr.nextSibling : ui.rows.firstChild;
      if (row.tr !== expected) ui.rows.insertBefore(row.tr, expected);
      previous = row;
    }
    for (const [key, row] of state.rows) {
      if (!live.has(key)) {
        row.tr.remove();
        state.rows.delete(key);
      }
    }
    ui.empty.hidden = list.length > 0;
    if (state.selected) showDetails(state.rows.get(state.selected));
    refreshAges();
  }

  function queueRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    requestAnimationFrame(render);
  }

  /** All of a row's fields as the gateway sent them: the raw JSON, which the Copy button puts on the clipboard. */
  function showDetails(row) {
    for (const tr of ui.rows.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    if (!row) {
      state.selected = null;
      ui.details.hidden = true;
      return;
    }
    state.selected = row.key;
    row.tr.classList.add('selected');
    ui.detailsTitle.textContent = `${row.entry.host || row.entry.instanceId || 'Row'} · ${row.key}`;
    const text = JSON.stringify(row.entry, null, 2);
    if (ui.detailsText.textContent !== text) ui.detailsText.textContent = text;
    ui.details.hidden = false;
  }

  ui.rows.addEventListener('click', (event) => {
    const tr = event.target.closest('tr');
    if (tr) showDetails(state.selected === tr.dataset.key ? null : state.rows.get(tr.dataset.key));
  });
  $('details-close').addEventListener('click', () => showDetails(null));
  ui.detailsCopy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(ui.detailsText.textContent);
      ui.detailsCopy.textContent = 'Copied';
    } catch {
      // Plain http on a LAN address is not a secure context: select the text for Ctrl+C instead.
      getSelection().selectAllChildren(ui.detailsText);
      ui.detailsCopy.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { ui.detailsCopy.textContent = 'Copy'; }, 2000);
  });

  ui.filter.addEventListener('input', () => {
    state.filter = ui.filter.value.trim().toLowerCase();
    queueRender();
  });

  for (const th of document.querySelectorAll('th.sortable')) {
    th.addEventListener('click', () => {
      const by = th.dataset.sort;
      // Ascending, descending, then back to the default order.
      state.sort = state.sort.by !== by ? { by, descending: false } : state.sort.descending ? { by: '', descending: false } : { by, descending: true };
      for (const other of document.querySelectorAll('th.sortable')) {
        other.setAttribute('aria-sort', other.dataset.sort !== state.sort.by ? 'none' : state.sort.descending ? 'descending' : 'ascending');
      }
      queueRender();
    });
  }

  // ---- start ----------------------------------------------------------------------------

  adoptFragmentToken();
  window.addEventListener('hashchange', () => {
    if (!new URLSearchParams(location.hash.slice(1)).has('token')) return;
    adoptFragmentToken();
    state.stopped = false;
    state.attempt = 0;
    ui.form.hidden = true;
    showMessage('');
    reconnectNow();
  });
  setInterval(() => {
    refreshAges();
    showRetryCountdown();
  }, 1000);
  connect();
})();
