// The heepr-fake dashboard: it reads the fake through GET /_fake/state and
// GET /_fake/requests once a second, and acts through the control API under
// /_fake/. No framework and no build step: what the binary embeds is this file.
//
// Everything shown comes from agents and scripts, so it is set as text
// (textContent), never parsed as HTML.
"use strict";

(function () {
  const POLL_MS = 1000;
  const MAX_LOG_ROWS = 500;

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // el builds an element: el("td", {className: "x"}, "text", child…).
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k in node) node[k] = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function clock(iso) {
    if (!iso) return "never";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString();
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }

  // ago is refreshed by tick(), apart from renders, so a render happens only
  // when the state changed and a button is never replaced under a click.
  function ago(iso) {
    if (!iso) return "";
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 60) return s + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m ago";
    return Math.floor(s / 3600) + "h ago";
  }

  function tick() {
    for (const span of $$("[data-ago]")) span.textContent = ago(span.dataset.ago);
  }

  function bytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
    return (n / (1 << 20)).toFixed(1) + " MiB";
  }

  // --- talking to the fake -------------------------------------------------

  // call sends one control request and returns its JSON answer; a non-2xx
  // answer throws an Error whose message is the envelope's message.
  async function call(method, path, body) {
    const init = { method, headers: {} };
    if (body instanceof FormData) {
      init.body = body; // the browser sets the multipart boundary
    } else if (typeof body === "string") {
      init.body = body;
      init.headers["Content-Type"] = "text/markdown; charset=utf-8";
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new Error(method + " " + path + ": the fake does not answer (" + e.message + ")");
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : {};
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const msg = data && data.error && data.error.message;
      const code = data && data.error && data.error.code;
      throw new Error(msg ? (code ? code + ": " : "") + msg : method + " " + path + ": " + res.status + " " + res.statusText);
    }
    return data || {};
  }

  function notice(text, isError) {
    const n = $("#notice");
    n.textContent = text;
    n.className = "notice " + (isError ? "error" : "ok");
  }

  // --- state ---------------------------------------------------------------

  let lastStateText = "";
  let agentIDs = [];

  async function pollState() {
    try {
      const res = await fetch("/_fake/state", { cache: "no-store" });
      const text = await res.text();
      if (!res.ok) {
        let msg = res.status + " " + res.statusText;
        try { msg = JSON.parse(text).error.message; } catch (e) { /* keep the status */ }
        setConn(false, msg);
      } else {
        setConn(true);
        if (text !== lastStateText) {
          lastStateText = text;
          render(JSON.parse(text));
        }
      }
    } catch (e) {
      setConn(false, "the fake does not answer");
    }
    setTimeout(pollState, POLL_MS);
  }

  function setConn(ok, why) {
    const c = $("#conn");
    c.textContent = ok ? "live" : "offline: " + why;
    c.className = "conn " + (ok ? "live" : "down");
  }

  function render(st) {
    $("#violations").textContent = st.violations;
    $("#violations-link").className = st.violations ? "bad" : "";
    renderAgents(st.agents);
    renderOrders(st.orders);
    fillList("#agent-ids", st.agents.map((a) => a.id));
    fillList("#order-ids", st.orders.map((o) => o.id).reverse());
    agentIDs = st.agents.map((a) => a.id);
    defaultAgent();
    tick();
  }

  function fillList(sel, values) {
    $(sel).replaceChildren(...values.map((v) => el("option", { value: v })));
  }

  // defaultAgent fills the agent fields left empty with the first agent, so
  // that placing an order takes only a brief.
  function defaultAgent() {
    if (!agentIDs.length) return;
    for (const input of $$('input[list="agent-ids"]')) {
      if (!input.value && document.activeElement !== input) input.value = agentIDs[0];
    }
  }

  function renderAgents(agents) {
    $("#agents-empty").hidden = agents.length > 0;
    $("#agents tbody").replaceChildren(...agents.map((a) => el("tr", { dataset: { agentId: a.id } },
      el("td", {}, el("button", { type: "button", className: "pick", dataset: { pickAgent: a.id }, title: "use in the forms" }, a.id)),
      el("td", {}, el("span", { className: "dot " + (a.online ? "on" : "off") }), a.online ? " online" : " offline"),
      el("td", {}, clock(a.last_poll), " ", el("span", { className: "hint", dataset: a.last_poll ? { ago: a.last_poll } : {} })),
      el("td", { className: "key-" + a.key_state }, a.key_state === "live" ? "live" : "no live key"),
      el("td", {}, a.cadence_minutes + " min"),
      el("td", {}, a.status),
      el("td", {}, a.queued),
    )));
  }

  function renderOrders(orders) {
    $("#orders-empty").hidden = orders.length > 0;
    // Newest first: the order just placed is where the eye is.
    $("#orders").replaceChildren(...orders.slice().reverse().map(renderOrder));
  }

  function renderOrder(o) {
    const price = o.price ? o.price.amount + " " + o.price.currency : "";
    const card = el("article", { className: "order", dataset: { orderId: o.id, state: o.state } },
      el("header", {},
        el("button", { type: "button", className: "pick", dataset: { pickOrder: o.id }, title: "use in the forms" }, o.id),
        el("span", { className: "badge state-" + o.state }, o.state),
        el("span", { className: "hint" }, o.agent_id + " · " + o.tier + " · " + price + " · due " + when(o.deadline)),
      ),
      el("p", { className: "brief" }, o.brief),
      o.scope ? el("p", { className: "scope hint" }, "scope: " + o.scope) : null,
    );
    if (o.attachments.length) {
      card.append(el("p", { className: "attachments hint" }, "attachments: " +
        o.attachments.map((a) => a.name + " (" + bytes(a.size) + ")").join(", ")));
    }
    if (o.progress.length) {
      const last = o.progress[o.progress.length - 1];
      card.append(el("div", { className: "progress" },
        el("progress", { max: 100, value: last.percent }),
        el("span", {}, " " + last.percent + "%" + (last.message ? " · " + last.message : "")),
      ));
    }
    card.append(el("ol", { className: "events" }, ...o.events.map((e) => el("li", { dataset: { eventId: e.id } },
      el("code", {}, e.id), " ", e.kind, " ", el("span", { className: "hint" }, clock(e.created_at)), " ",
      el("span", { className: e.polled ? "polled" : "queued" }, e.polled ? "polled" : "queued"),
    ))));
    for (const d of o.deliveries) card.append(renderDelivery(d));
    for (const d of o.declines) card.append(reasonLine("decline", "declined", d));
    for (const f of o.flags) card.append(reasonLine("flag", "flagged", f));
    return card;
  }

  function renderDelivery(d) {
    const box = el("section", { className: "delivery", dataset: { deliveryId: d.id } },
      el("h3", {}, "delivery ", el("code", {}, d.id), " ",
        el("span", { className: "badge" }, d.state), " ", el("span", { className: "hint" }, when(d.created_at))),
    );
    if (d.message) box.append(el("p", { className: "message" }, d.message));
    if (d.text) box.append(el("pre", { className: "text" }, d.text));
    if (d.links.length) {
      box.append(el("ul", { className: "links" }, ...d.links.map((l) => el("li", {}, safeLink(l)))));
    }
    if (d.files.length) {
      box.append(el("ul", { className: "files" }, ...d.files.map((f) => el("li", { dataset: { file: f.name } },
        el("a", { className: "file", href: f.url, download: f.name }, f.name),
        el("span", { className: "hint" }, " " + bytes(f.size) + " · " + (f.content_type || "unknown type") + " · sha256 " + f.sha256.slice(0, 12) + "…"),
        /^image\//.test(f.content_type) ? el("div", {}, el("img", { src: f.url, alt: f.name, className: "preview" })) : null,
      ))));
    }
    return box;
  }

  // safeLink makes a link of an http(s) URL an agent delivered, and plain
  // text of anything else (a javascript: URL stays inert).
  function safeLink(url) {
    let u;
    try { u = new URL(url); } catch (e) { return url; }
    if (u.protocol !== "http:" && u.protocol !== "https:") return url;
    return el("a", { href: u.href, target: "_blank", rel: "noopener noreferrer" }, url);
  }

  function reasonLine(cls, verb, r) {
    return el("p", { className: cls }, el("strong", {}, verb), " ", el("code", {}, r.reason),
      r.message ? " · " + r.message : "", " ", el("span", { className: "hint" }, when(r.at)));
  }

  // --- request log ---------------------------------------------------------

  let since = 0;

  async function pollRequests() {
    let wait = POLL_MS;
    try {
      const data = await call("GET", "/_fake/requests?since=" + since);
      $("#requests-status").textContent = "";
      const body = $("#requests tbody");
      for (const r of data.requests || []) {
        body.prepend(el("tr", { className: r.status >= 400 || !r.status ? "failed" : "" },
          el("td", {}, r.seq), el("td", {}, clock(r.time)), el("td", {}, r.method),
          el("td", {}, el("code", {}, r.path)),
          el("td", {}, r.status || "dropped", r.fault ? el("span", { className: "hint" }, " fault: " + r.fault) : null,
            r.replayed ? el("span", { className: "hint" }, " replayed") : null),
          el("td", {}, r.agent_id || ""), el("td", {}, el("code", {}, r.request_id || "")),
        ));
      }
      while (body.rows.length > MAX_LOG_ROWS) body.deleteRow(-1);
      if (typeof data.next === "number") since = data.next;
    } catch (e) {
      $("#requests-status").textContent = "request log unavailable: " + e.message;
      wait = 5 * POLL_MS;
    }
    setTimeout(pollRequests, wait);
  }

  // --- controls ------------------------------------------------------------

  const enc = encodeURIComponent;

  // rfc3339 turns a datetime-local value (the browser's zone) into UTC.
  function rfc3339(local) {
    return local ? new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined;
  }

  function int(v) {
    return v === "" || v === undefined ? undefined : Number.parseInt(v, 10);
  }

  // compact drops the members left empty, so a field not filled in is not
  // sent and the fake's default applies.
  function compact(obj) {
    const out = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v !== undefined && v !== "" && !Number.isNaN(v)) out[k] = v;
    }
    return out;
  }

  const actions = {
    "order-form": async (f) => {
      const order = compact({
        agent_id: f.agent_id.value.trim(), brief: f.brief.value, tier: f.tier.value.trim(),
        scope: f.scope.value, price: int(f.price.value), deadline: rfc3339(f.deadline.value),
        revisions_allowed: int(f.revisions_allowed.value),
      });
      let body = order;
      if (f.file.files.length) {
        body = new FormData();
        body.append("order", new Blob([JSON.stringify(order)], { type: "application/json" }));
        for (const file of f.file.files) body.append("file", file, file.name);
      }
      const r = await call("POST", "/_fake/orders", body);
      f.brief.value = "";
      f.file.value = "";
      pickOrder(r.order_id);
      const att = r.attachments && r.attachments.length ? " with " + r.attachments.length + " attachment(s)" : "";
      return "order " + r.order_id + " placed" + att + (r.event_id ? " (event " + r.event_id + ")" : "");
    },
    "revision-form": async (f) => {
      const r = await call("POST", "/_fake/orders/" + enc(f.order.value.trim()) + "/revision", { brief: f.brief.value });
      f.brief.value = "";
      return "revision requested on " + r.order_id + " (event " + r.event_id + ")";
    },
    "owner-form": async (f, op) => {
      const id = enc(f.order.value.trim());
      if (op === "scope") {
        const r = await call("POST", "/_fake/orders/" + id + "/scope",
          compact({ scope: f.scope.value, brief: f.brief.value, deadline: rfc3339(f.deadline.value) }));
        return "scope of " + r.order_id + " changed (event " + r.event_id + ")";
      }
      const r = await call("POST", "/_fake/orders/" + id + "/" + op, compact({ note: f.note.value }));
      return r.order_id + (op === "approve" ? " approved" : " denied") + " (event " + r.event_id + ")";
    },
    "agent-form": async (f, op) => {
      const id = enc(f.agent.value.trim());
      if (op === "cadence") {
        await call("PUT", "/_fake/agents/" + id + "/cadence", { minutes: int(f.minutes.value) });
        return "cadence of " + f.agent.value.trim() + " set to " + f.minutes.value + " minutes";
      }
      const r = await call("POST", "/_fake/agents/" + id + "/" + op);
      if (op === "token") return "bootstrap token for " + r.agent_id + ": " + r.bootstrap_token;
      return "key of " + r.agent_id + " " + r.key_state;
    },
    "add-agent-form": async (f) => {
      const r = await call("POST", "/_fake/agents",
        compact({
          agent_id: f.agent_id.value.trim(), cadence_minutes: int(f.cadence_minutes.value),
          manual_acceptance: f.manual_acceptance.checked || undefined,
        }));
      f.agent_id.value = "";
      f.manual_acceptance.checked = false;
      return "agent " + r.agent_id + " added; bootstrap token " + r.bootstrap_token;
    },
    "skill-form": async (f) => {
      await call("PUT", "/_fake/skill/" + enc(f.file.value), f.body.value);
      return f.file.value + " published";
    },
    "fault-form": async (f, op) => {
      if (op === "clear") {
        await call("DELETE", "/_fake/faults");
        return "faults cleared";
      }
      await call("POST", "/_fake/faults", compact({
        op: f.op.value.trim(), kind: f.kind.value, status: int(f.status.value),
        retry_after_seconds: int(f.retry_after_seconds.value), times: int(f.times.value),
        latency_ms: int(f.latency_ms.value), event_kind: f.event_kind.value.trim(),
      }));
      const target = f.op.value.trim();
      return (f.kind.value || "status") + " fault injected on " + (target === "*" ? "every operation" : target);
    },
    "reset-form": async () => {
      if (!window.confirm("Reset the fake? Orders, deliveries, the request log, violations and faults are forgotten; agents and their keys stay.")) return null;
      await call("POST", "/_fake/reset");
      // The log's sequence numbers go on counting across a reset: keep since.
      $("#requests tbody").replaceChildren();
      lastStateText = "";
      return "the fake was reset";
    },
  };

  function pickOrder(id) {
    for (const input of $$('input[name="order"]')) input.value = id;
  }

  function pickAgent(id) {
    for (const input of $$('input[list="agent-ids"]')) input.value = id;
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    const act = actions[form.id];
    if (!act) return;
    ev.preventDefault();
    const op = ev.submitter ? ev.submitter.value : undefined;
    const buttons = $$("button", form);
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const msg = await act(form, op);
      if (msg) notice(msg, false);
    } catch (e) {
      notice(e.message, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-pick-order],[data-pick-agent]");
    if (!b) return;
    if (b.dataset.pickOrder) pickOrder(b.dataset.pickOrder);
    if (b.dataset.pickAgent) pickAgent(b.dataset.pickAgent);
  });

  $("#api-url").textContent = location.origin + "/api";
  pollState();
  pollRequests();
  setInterval(tick, POLL_MS);
})();
