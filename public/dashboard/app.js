// hookrelay's operator dashboard: a few views over the /relay/ API, hash-routed, polled while visible.
// Everything the API returns is rendered as text nodes; the token stays in sessionStorage.

const TOKEN_KEY = "hookrelay.token";
const POLL_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";

const HEALTH = {
  failing: { label: "Failing", rank: 0 },
  circuit_open: { label: "Circuit open", rank: 1 },
  disabled: { label: "Disabled", rank: 2 },
  healthy: { label: "Healthy", rank: 3 },
};
const DIALECTS = { github: "GitHub", alauda: "Alauda" };
const STATES = ["pending", "succeeded", "failed"];

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// DOM helpers: elements from tag, properties and children; strings always become text nodes.

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "on") for (const [type, handler] of Object.entries(value)) node.addEventListener(type, handler);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(
      typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child,
    );
  }
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}

const rendered = new WeakMap();

/** Replaces a region's content only when its data changed, keeping focus on the same control. */
function update(region, data, render) {
  const json = JSON.stringify(data);
  if (rendered.get(region) === json) return;
  const active = document.activeElement;
  const focusKey = active && region.contains(active) ? active.dataset.focus : undefined;
  region.replaceChildren(...[render(data)].flat().filter(Boolean));
  rendered.set(region, json);
  if (focusKey) region.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus({ preventScroll: true });
}

/** Replaces a container's children, keeping focus on the control with the same id. */
function rebuild(container, ...children) {
  const active = document.activeElement;
  const id = active && container.contains(active) ? active.id : "";
  container.replaceChildren(...children);
  if (id) document.getElementById(id)?.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------
// Formatting

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const shortDateTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const hourOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const count = new Intl.NumberFormat();

function time(iso, format = dateTime) {
  if (!iso) return el("span", { class: "muted", text: "—" });
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el("span", { text: String(iso) });
  return el("time", { datetime: date.toISOString(), title: date.toISOString(), text: format.format(date) });
}

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Number(n) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function plural(n, one, many) {
  return `${count.format(n)} ${n === 1 ? one : many}`;
}

/** JSON pretty-printed when it parses, else the raw text. */
function pretty(text) {
  if (text === null || text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// ---------------------------------------------------------------------------------------------
// The API

class SignedOut extends Error {}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Link header → { next: URLSearchParams, prev: … }: only the query, so the page is asked of this origin. */
function parseLinks(header) {
  const links = {};
  if (!header) return links;
  for (const part of header.split(/,\s*(?=<)/)) {
    const match = /^<([^>]*)>(.*)$/.exec(part.trim());
    const rels = match && /rel="?([^";]+)"?/.exec(match[2]);
    if (!rels) continue;
    let url;
    try {
      url = new URL(match[1], location.href);
    } catch {
      continue;
    }
    for (const rel of rels[1].split(/\s+/)) links[rel] = url.searchParams;
  }
  return links;
}

async function api(path, { method = "GET", body } = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignedOut();
  const headers = { accept: "application/json", authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401) {
    signOut("The relay did not accept the token (401 Requires authentication). Sign in again.");
    throw new SignedOut();
  }
  if (!response.ok) {
    const message = typeof data?.message === "string" ? data.message : text.slice(0, 200) || response.statusText;
    throw new ApiError(response.status, `${message} (${response.status})`);
  }
  return { data, links: parseLinks(response.headers.get("link")) };
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

// ---------------------------------------------------------------------------------------------
// Messages: confirmations in a status region, errors in an alert region.

let alertFromPoll = false;

function notice(text) {
  showAlert("");
  $("notice").replaceChildren(text ? el("p", { class: "notice", text }) : "");
}

function showAlert(text, fromPoll = false) {
  alertFromPoll = fromPoll && Boolean(text);
  if ($("alert").textContent === text) return;
  $("alert").replaceChildren(text ? el("p", { class: "error", text }) : "");
}

function reportError(error, fromPoll = false) {
  if (error instanceof SignedOut) return;
  if (error instanceof ApiError) showAlert(error.message, fromPoll);
  else showAlert(`Could not reach the relay: ${error?.message ?? error}`, fromPoll);
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

function healthBadge(subscription) {
  const health = subscription.health ?? {};
  const state = health.state in HEALTH ? health.state : "healthy";
  const lines = [el("span", { class: `badge health-${state}`, text: HEALTH[state].label })];
  if (state === "disabled" && subscription.disabled_reason) {
    lines.push(el("span", { class: "reason", text: subscription.disabled_reason }));
  } else if (state !== "healthy") {
    const failures = health.consecutive_failures
      ? plural(health.consecutive_failures, "failure in a row", "failures in a row")
      : "";
    const detail = [failures, health.last_status].filter(Boolean).join(" · ");
    if (detail) lines.push(el("span", { class: "reason", text: detail }));
  }
  return el("div", { class: "health" }, lines);
}

function stateBadge(state) {
  return el("span", { class: `badge state-${STATES.includes(state) ? state : "other"}`, text: state });
}

function subjectText(subscription) {
  return `${subscription.subject ?? ""}${subscription.subject_type ? ` (${subscription.subject_type.replace(/_/g, " ")})` : ""}`;
}

function eventsText(events) {
  return Array.isArray(events) && events.length ? events.join(", ") : "—";
}

function byHealth(a, b) {
  const rank = (s) => HEALTH[s.health?.state]?.rank ?? 3;
  return rank(a) - rank(b) || a.id - b.id;
}

/** Enable / Recover for one subscription; `described` names the element that says which one. */
function subscriptionActions(subscription, described) {
  const actions = [];
  if (!subscription.active || subscription.health?.state === "disabled") {
    actions.push(
      el("button", {
        type: "button",
        text: "Enable",
        "aria-describedby": described,
        dataset: { focus: `enable-${subscription.id}` },
        on: { click: (event) => enable(subscription, event.currentTarget) },
      }),
    );
  }
  actions.push(
    el("button", {
      type: "button",
      class: "quiet",
      text: "Recover failed deliveries",
      "aria-describedby": described,
      dataset: { focus: `recover-${subscription.id}` },
      on: { click: (event) => openRecover(subscription, event.currentTarget) },
    }),
  );
  return el("div", { class: "actions" }, actions);
}

async function enable(subscription, button) {
  button.disabled = true;
  try {
    await api(`/relay/subscriptions/${encodeURIComponent(subscription.id)}/enable`, { method: "POST" });
    notice(`Enabled ${subscription.url}`);
    refreshNow();
  } catch (error) {
    reportError(error);
  } finally {
    button.disabled = false;
  }
}

let recovering = null;

function openRecover(subscription, opener) {
  recovering = { subscription, opener };
  $("recover-target").textContent = `${subscription.url} · ${subjectText(subscription)}`;
  $("recover-since").value = localInputValue(new Date(Date.now() - 24 * 3600 * 1000));
  $("recover-error").textContent = "";
  $("recover-dialog").showModal();
  $("recover-since").focus();
}

function closeRecover() {
  const opener = recovering?.opener;
  $("recover-dialog").close();
  recovering = null;
  if (opener?.isConnected) opener.focus();
}

async function submitRecover(event) {
  event.preventDefault();
  if (!recovering) return;
  const since = new Date($("recover-since").value);
  if (Number.isNaN(since.getTime())) {
    $("recover-error").textContent = "Choose a date and time.";
    return;
  }
  const { subscription } = recovering;
  const submit = event.currentTarget.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const { data } = await api(`/relay/subscriptions/${encodeURIComponent(subscription.id)}/recover`, {
      method: "POST",
      body: { since: since.toISOString() },
    });
    closeRecover();
    notice(`Recovering ${plural(Number(data?.deliveries ?? 0), "delivery", "deliveries")}`);
    refreshNow();
  } catch (error) {
    if (error instanceof ApiError) $("recover-error").textContent = error.message;
    else if (!(error instanceof SignedOut))
      $("recover-error").textContent = `Could not reach the relay: ${error.message}`;
  } finally {
    submit.disabled = false;
  }
}

function subscriptionsTable(subscriptions, caption) {
  const rows = subscriptions.map((s) => {
    const urlId = `sub-url-${caption.id}-${s.id}`;
    return el(
      "tr",
      { class: `row-${s.health?.state ?? "healthy"}` },
      el(
        "td",
        { class: "break" },
        el("a", { id: urlId, href: `#/subscriptions/${s.id}`, text: s.url, dataset: { focus: `open-${s.id}` } }),
      ),
      el("td", { text: DIALECTS[s.dialect] ?? s.dialect }),
      el("td", { class: "break", text: subjectText(s) }),
      el("td", { text: eventsText(s.events) }),
      el("td", {}, healthBadge(s)),
      el("td", {}, subscriptionActions(s, urlId)),
    );
  });
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "data" },
      caption.node,
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ["URL", "Dialect", "Subject", "Events", "Health", "Actions"].map((h) => el("th", { scope: "col", text: h })),
        ),
      ),
      el("tbody", {}, rows),
    ),
  );
}

function pager(links, go, label) {
  if (!links.prev && !links.next) return null;
  const button = (rel, text) =>
    el("button", {
      type: "button",
      class: "quiet",
      text,
      disabled: !links[rel],
      dataset: { focus: `page-${rel}` },
      on: { click: () => links[rel] && go(links[rel]) },
    });
  return el(
    "nav",
    { class: "pager", "aria-label": label },
    button("prev", "Previous page"),
    button("next", "Next page"),
  );
}

function select(id, labelText, options, value, onChange) {
  return el(
    "div",
    { class: "field" },
    el("label", { for: id, text: labelText }),
    el(
      "select",
      { id, on: { change: (event) => onChange(event.currentTarget.value) } },
      options.map(([optionValue, text]) => el("option", { value: optionValue, text, selected: optionValue === value })),
    ),
  );
}

function headersTable(headers, caption) {
  const entries = headers && typeof headers === "object" ? Object.entries(headers) : [];
  if (!entries.length) return el("p", { class: "muted", text: `${caption}: none` });
  return el(
    "table",
    { class: "headers" },
    el("caption", { text: caption }),
    el(
      "tbody",
      {},
      entries.map(([name, value]) =>
        el("tr", {}, el("th", { scope: "row", text: name }), el("td", { class: "break", text: String(value) })),
      ),
    ),
  );
}

function definitions(pairs) {
  return el(
    "dl",
    { class: "facts" },
    pairs.filter(Boolean).map(([term, value]) => el("div", {}, el("dt", { text: term }), el("dd", {}, value))),
  );
}

// ---------------------------------------------------------------------------------------------
// Overview

function overviewView() {
  const stats = el("div", { class: "region" });
  const chart = el("div", { class: "region" });
  const attention = el("div", { class: "region" });
  const heading = el("h1", { tabindex: "-1", text: "Overview" });
  const root = el(
    "div",
    { class: "overview" },
    heading,
    el(
      "section",
      { "aria-labelledby": "deliveries-title" },
      el("h2", { id: "deliveries-title", text: "Deliveries" }),
      stats,
    ),
    el(
      "section",
      { "aria-labelledby": "chart-title" },
      el("h2", { id: "chart-title", text: "Delivery attempts, last 24 hours" }),
      chart,
    ),
    el(
      "section",
      { "aria-labelledby": "attention-title" },
      el("h2", { id: "attention-title", text: "Subscriptions needing attention" }),
      attention,
    ),
  );

  async function refresh(isCurrent) {
    const unhealthy = ["failing", "circuit_open", "disabled"].map((health) =>
      api(`/relay/subscriptions${query({ health, per_page: "100" })}`),
    );
    const [{ data }, ...lists] = await Promise.all([api("/relay/stats"), ...unhealthy]);
    if (!isCurrent()) return;
    update(stats, data, renderStats);
    update(chart, data.hourly ?? [], renderChart);
    const subscriptions = lists.flatMap((list) => (Array.isArray(list.data) ? list.data : []));
    const more = lists.some((list) => list.links.next);
    update(attention, { subscriptions, more }, ({ subscriptions, more }) => {
      if (!subscriptions.length) return el("p", { class: "all-good", text: "Every subscription is healthy." });
      return [
        subscriptionsTable(
          subscriptions.sort(byHealth),
          captionFor("attention", "Failing, circuit open and disabled subscriptions"),
        ),
        more ? el("p", {}, el("a", { href: "#/subscriptions?health=failing", text: "More in Subscriptions" })) : null,
      ];
    });
  }

  return { key: "overview", title: "Overview", root, heading, refresh };
}

function captionFor(id, text) {
  return { id, node: el("caption", { class: "visually-hidden", text }) };
}

function renderStats(stats) {
  const deliveries = stats.deliveries ?? {};
  const card = (label, value, extra) =>
    el("div", { class: `card ${extra ?? ""}` }, el("dt", { text: label }), el("dd", {}, value));
  return [
    el(
      "dl",
      { class: "cards" },
      STATES.map((state) =>
        card(state[0].toUpperCase() + state.slice(1), count.format(deliveries[state] ?? 0), `state-${state}`),
      ),
    ),
    el(
      "dl",
      { class: "cards storage" },
      card("Storage used", bytes(stats.storage_bytes)),
      card("Events kept", count.format(stats.events ?? 0)),
      card("Oldest event kept", time(stats.oldest_event_at)),
      card("Retention", stats.retention_days ? plural(stats.retention_days, "day", "days") : "—"),
    ),
  ];
}

function renderChart(hourly) {
  if (!hourly.length) return el("p", { class: "muted", text: "No attempts in the last 24 hours." });
  const width = 760;
  const height = 220;
  const pad = { top: 12, right: 12, bottom: 28, left: 44 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(1, ...hourly.map((h) => (h.succeeded ?? 0) + (h.failed ?? 0)));
  const step = 10 ** Math.floor(Math.log10(max));
  const top = Math.ceil(max / step) * step;
  const y = (v) => pad.top + plotH - (v / top) * plotH;
  const slot = plotW / hourly.length;
  const barW = Math.max(2, slot * 0.7);
  let succeeded = 0;
  let failed = 0;

  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-labelledby": "chart-summary",
  });
  for (const tick of [0, top / 2, top]) {
    chart.append(
      svg("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick) }),
      svg("text", { class: "axis", x: pad.left - 6, y: y(tick) + 4, "text-anchor": "end" }, count.format(tick)),
    );
  }
  hourly.forEach((hour, i) => {
    const ok = Number(hour.succeeded) || 0;
    const bad = Number(hour.failed) || 0;
    succeeded += ok;
    failed += bad;
    const start = new Date(hour.hour);
    const x = pad.left + i * slot + (slot - barW) / 2;
    const group = svg("g", {}, svg("title", {}, `${hourOnly.format(start)}: ${ok} succeeded, ${bad} failed`));
    if (ok) group.append(svg("rect", { class: "ok", x, width: barW, y: y(ok), height: y(0) - y(ok) }));
    if (bad) group.append(svg("rect", { class: "bad", x, width: barW, y: y(ok + bad), height: y(ok) - y(ok + bad) }));
    group.append(svg("rect", { class: "hit", x: pad.left + i * slot, width: slot, y: pad.top, height: plotH }));
    chart.append(group);
    if (i % 3 === 0) {
      chart.append(
        svg("text", { class: "axis", x: x + barW / 2, y: height - 8, "text-anchor": "middle" }, hourOnly.format(start)),
      );
    }
  });

  const table = el(
    "table",
    { class: "visually-hidden" },
    el("caption", { text: "Attempts per hour" }),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["Hour", "Succeeded", "Failed"].map((h) => el("th", { scope: "col", text: h })),
      ),
    ),
    el(
      "tbody",
      {},
      hourly.map((h) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, time(h.hour)),
          el("td", { text: String(h.succeeded ?? 0) }),
          el("td", { text: String(h.failed ?? 0) }),
        ),
      ),
    ),
  );
  return el(
    "figure",
    { class: "chart-figure" },
    chart,
    el(
      "figcaption",
      { id: "chart-summary" },
      el("span", { class: "key ok", "aria-hidden": "true" }),
      `${plural(succeeded, "attempt", "attempts")} succeeded`,
      el("span", { class: "key bad", "aria-hidden": "true" }),
      `${plural(failed, "attempt", "attempts")} failed, in the last 24 hours`,
    ),
    table,
  );
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

function subscriptionsView(params) {
  const heading = el("h1", { tabindex: "-1", text: "Subscriptions" });
  const filters = el("form", {
    class: "filters",
    "aria-label": "Filter subscriptions",
    on: { submit: (e) => e.preventDefault() },
  });
  const list = el("div", { class: "region" });
  const root = el("div", {}, heading, filters, list);
  let current = params;

  const go = (next) => {
    location.hash = `#/subscriptions${query(next)}`;
  };
  function renderFilters() {
    rebuild(
      filters,
      select(
        "filter-dialect",
        "Dialect",
        [["", "All dialects"], ...Object.entries(DIALECTS)],
        current.dialect ?? "",
        (dialect) => go({ ...current, dialect, page: "" }),
      ),
      select(
        "filter-health",
        "Health",
        [["", "Any health"], ...Object.entries(HEALTH).map(([value, h]) => [value, h.label])],
        current.health ?? "",
        (health) => go({ ...current, health, page: "" }),
      ),
    );
  }

  async function refresh(isCurrent) {
    const { data, links } = await api(
      `/relay/subscriptions${query({ dialect: current.dialect, health: current.health, page: current.page, per_page: "100" })}`,
    );
    if (!isCurrent()) return;
    const subscriptions = Array.isArray(data) ? [...data].sort(byHealth) : [];
    update(list, { subscriptions, links: Object.keys(links) }, () => {
      if (!subscriptions.length) return el("p", { class: "muted", text: "No subscriptions match." });
      return [
        subscriptionsTable(subscriptions, captionFor("list", "Subscriptions")),
        pager(links, (search) => go({ ...current, page: search.get("page") ?? "" }), "Subscription pages"),
      ];
    });
  }

  renderFilters();
  return {
    key: "subscriptions",
    title: "Subscriptions",
    root,
    heading,
    refresh,
    update(next) {
      current = next;
      renderFilters();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One subscription: its deliveries and one delivery's attempts

function subscriptionView(id, params, deliveryId) {
  const heading = el("h1", { tabindex: "-1", text: `Subscription ${id}` });
  const summary = el("div", { class: "region" });
  const filters = el("form", {
    class: "filters",
    "aria-label": "Filter deliveries",
    on: { submit: (e) => e.preventDefault() },
  });
  const list = el("div", { class: "region" });
  const detail = el("section", { class: "detail region", "aria-label": "Delivery" });
  const root = el(
    "div",
    {},
    el("p", { class: "crumbs" }, el("a", { href: "#/subscriptions", text: "All subscriptions" })),
    heading,
    summary,
    el(
      "div",
      { class: "split" },
      el(
        "section",
        { "aria-labelledby": "deliveries-title" },
        el("h2", { id: "deliveries-title", text: "Deliveries" }),
        filters,
        list,
      ),
      detail,
    ),
  );
  let current = params;
  let selected = deliveryId;
  let subscription = null;
  const open = new Map();

  const hashFor = (delivery, next) =>
    `#/subscriptions/${id}${delivery ? `/deliveries/${delivery}` : ""}${query({ state: next.state, event: next.event, page: next.page, per_page: next.per_page })}`;
  const go = (next) => {
    location.hash = hashFor(selected, next);
  };

  function renderFilters() {
    const events = new Set(subscription?.events ?? []);
    if (subscription?.dialect === "github") events.add("ping");
    events.delete("*");
    rebuild(
      filters,
      select("filter-state", "State", [["", "Any state"], ...STATES.map((s) => [s, s])], current.state ?? "", (state) =>
        go({ ...current, state, page: "" }),
      ),
      el(
        "div",
        { class: "field" },
        el("label", { for: "filter-event", text: "Event" }),
        el("input", {
          id: "filter-event",
          type: "search",
          list: "filter-event-options",
          placeholder: "Any event",
          value: current.event ?? "",
          autocomplete: "off",
          on: { change: (event) => go({ ...current, event: event.currentTarget.value.trim(), page: "" }) },
        }),
        el(
          "datalist",
          { id: "filter-event-options" },
          [...events].map((e) => el("option", { value: e })),
        ),
      ),
    );
  }

  async function refresh(isCurrent) {
    const requests = [
      api(`/relay/subscriptions/${id}`),
      api(
        `/relay/deliveries${query({ subscription_id: String(id), state: current.state, event: current.event, page: current.page, per_page: current.per_page })}`,
      ),
    ];
    if (selected) requests.push(api(`/relay/deliveries/${selected}`));
    const [sub, deliveries, one] = await Promise.all(requests);
    if (!isCurrent()) return;
    const firstLoad = !subscription;
    subscription = sub.data;
    if (firstLoad) renderFilters();
    heading.textContent = `Subscription ${id}`;
    update(summary, subscription, renderSummary);
    update(list, { deliveries: deliveries.data, links: Object.keys(deliveries.links), selected, current }, () =>
      renderDeliveries(deliveries.data ?? [], deliveries.links),
    );
    if (one) update(detail, one.data, renderDetail);
    else update(detail, null, () => el("p", { class: "muted", text: "Choose a delivery to see its attempts." }));
  }

  function renderSummary(s) {
    return el(
      "div",
      { class: "summary" },
      definitions([
        ["URL", el("span", { id: "summary-url", class: "break", text: s.url })],
        ["Dialect", DIALECTS[s.dialect] ?? s.dialect],
        ["Subject", subjectText(s)],
        ["Events", eventsText(s.events)],
        ["Content type", s.content_type ?? "—"],
        ["Secret", s.secret ? "set" : "none"],
        ["Health", healthBadge(s)],
        ["Last attempt", time(s.health?.last_attempt_at)],
        s.health?.failing_since ? ["Failing since", time(s.health.failing_since)] : null,
      ]),
      subscriptionActions(s, "summary-url"),
    );
  }

  function renderDeliveries(deliveries, links) {
    if (!deliveries.length) return el("p", { class: "muted", text: "No deliveries match." });
    const rows = deliveries.map((d) => {
      const isSelected = String(d.id) === String(selected);
      return el(
        "tr",
        { class: isSelected ? "selected" : undefined, "aria-current": isSelected ? "true" : undefined },
        el(
          "td",
          { class: "nowrap" },
          el("a", {
            href: hashFor(d.id, current),
            text: `#${d.id} ${d.event}`,
            dataset: { focus: `delivery-${d.id}` },
          }),
        ),
        el("td", {}, stateBadge(d.state)),
        el("td", { class: "num", text: String(d.attempts ?? 0) }),
        el("td", { class: "nowrap" }, time(d.created_at, shortDateTime)),
      );
    });
    return [
      el(
        "table",
        { class: "data deliveries" },
        el("caption", { class: "visually-hidden", text: "Deliveries, newest first" }),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ["Delivery", "State", "Attempts", "Created"].map((h) => el("th", { scope: "col", text: h })),
          ),
        ),
        el("tbody", {}, rows),
      ),
      pager(
        links,
        (search) => go({ ...current, page: search.get("page") ?? "", per_page: search.get("per_page") ?? "" }),
        "Delivery pages",
      ),
    ];
  }

  function toggleable(key, summaryText, body, openByDefault) {
    const details = el(
      "details",
      { open: open.has(key) ? open.get(key) : openByDefault },
      el("summary", { text: summaryText }),
      body,
    );
    details.addEventListener("toggle", () => open.set(key, details.open));
    return details;
  }

  function renderDetail(d) {
    const attempts = Array.isArray(d.attempt_log) ? [...d.attempt_log].reverse() : [];
    return [
      el("h2", { id: "delivery-title", text: `Delivery ${d.id} · ${d.event}` }),
      definitions([
        ["State", stateBadge(d.state)],
        ["GUID", el("code", { text: d.guid ?? "" })],
        ["URL", el("span", { class: "break", text: d.url ?? "" })],
        ["Created", time(d.created_at)],
        ["Completed", time(d.completed_at)],
        d.state === "pending" && d.next_attempt_at ? ["Next attempt", time(d.next_attempt_at)] : null,
        d.failure_reason ? ["Failure", el("span", { class: "break", text: d.failure_reason })] : null,
      ]),
      el(
        "div",
        { class: "actions" },
        el("button", {
          type: "button",
          text: "Redeliver",
          dataset: { focus: "redeliver" },
          on: { click: (event) => redeliver(d, event.currentTarget) },
        }),
      ),
      el("h3", { text: "Payload" }),
      el("pre", { class: "payload", tabindex: "0", "aria-label": "Payload", text: pretty(d.payload) }),
      el("h3", { text: `Attempts (${attempts.length})` }),
      attempts.length
        ? el(
            "ol",
            { class: "attempts", reversed: true },
            attempts.map((a) => renderAttempt(d, a)),
          )
        : el("p", { class: "muted", text: "No attempt yet." }),
    ];
  }

  function renderAttempt(d, a) {
    const status = a.status_code ?? "no response";
    return el(
      "li",
      { class: `attempt ${a.succeeded ? "ok" : "bad"}` },
      el(
        "h4",
        {},
        `Attempt ${a.attempt} · `,
        el("span", { class: `badge ${a.succeeded ? "state-succeeded" : "state-failed"}`, text: String(status) }),
        ` ${a.status ?? ""}`,
      ),
      definitions([
        ["Delivered", time(a.delivered_at)],
        ["Duration", `${count.format(a.duration_ms ?? 0)} ms`],
        ["Response status", String(status)],
      ]),
      toggleable(
        `${d.id}:${a.attempt}:request`,
        "Request headers",
        headersTable(a.request_headers, "Request headers"),
        false,
      ),
      toggleable(
        `${d.id}:${a.attempt}:response-headers`,
        "Response headers",
        headersTable(a.response_headers, "Response headers"),
        false,
      ),
      el("h5", { text: "Response body" }),
      a.response_body === null || a.response_body === undefined || a.response_body === ""
        ? el("p", { class: "muted", text: "No body" })
        : el("pre", {
            class: "body",
            tabindex: "0",
            "aria-label": `Response body of attempt ${a.attempt}`,
            text: pretty(a.response_body),
          }),
    );
  }

  async function redeliver(d, button) {
    button.disabled = true;
    try {
      await api(`/relay/deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: "POST" });
      notice("Redelivery queued");
      refreshNow();
    } catch (error) {
      reportError(error);
    } finally {
      button.disabled = false;
    }
  }

  renderFilters();
  return {
    key: `subscription:${id}`,
    title: `Subscription ${id}`,
    root,
    heading,
    refresh,
    update(next, nextDelivery) {
      const moved = String(nextDelivery ?? "") !== String(selected ?? "");
      current = next;
      selected = nextDelivery;
      renderFilters();
      if (moved) {
        rendered.delete(detail);
        detail.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Routing, polling, sign-in

let view = null;
let pollTimer = 0;
let loading = null;
let refreshes = 0;

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  const params = Object.fromEntries(new URLSearchParams(search));
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "subscriptions" && /^\d+$/.test(parts[1] ?? "")) {
    const delivery = parts[2] === "deliveries" && /^\d+$/.test(parts[3] ?? "") ? parts[3] : undefined;
    return {
      key: `subscription:${parts[1]}`,
      make: () => subscriptionView(parts[1], params, delivery),
      params,
      delivery,
    };
  }
  if (parts[0] === "subscriptions") return { key: "subscriptions", make: () => subscriptionsView(params), params };
  return { key: "overview", make: () => overviewView(), params };
}

function show() {
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    showSignIn();
    return;
  }
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  const next = route();
  if (view && view.key === next.key && view.update) {
    view.update(next.params, next.delivery);
  } else {
    view = next.make();
    $("notice").replaceChildren();
    $("view").replaceChildren(view.root);
    document.title = `${view.title} · hookrelay`;
    view.heading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  for (const link of document.querySelectorAll("[data-nav]")) {
    const here =
      next.key === link.dataset.nav || (link.dataset.nav === "subscriptions" && next.key.startsWith("subscription"));
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  refreshNow();
}

/** Loads the current view now, then every few seconds while the tab is visible. */
function refreshNow() {
  clearTimeout(pollTimer);
  const target = view;
  if (!target || !sessionStorage.getItem(TOKEN_KEY)) return;
  const generation = ++refreshes;
  const run = target
    .refresh(() => generation === refreshes && view === target)
    .then(() => {
      if (alertFromPoll) showAlert("");
    })
    .catch((error) => reportError(error, true));
  loading = run;
  run.finally(() => {
    if (loading !== run) return;
    loading = null;
    schedule();
  });
}

function schedule() {
  clearTimeout(pollTimer);
  if (document.hidden || !view || !sessionStorage.getItem(TOKEN_KEY)) return;
  pollTimer = setTimeout(refreshNow, POLL_MS);
}

function showSignIn(message = "") {
  clearTimeout(pollTimer);
  view = null;
  $("view").replaceChildren();
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("notice").replaceChildren();
  showAlert(message);
  document.title = "Sign in · hookrelay";
  $("token").focus();
}

function signOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  if ($("recover-dialog").open) $("recover-dialog").close();
  recovering = null;
  showSignIn(message);
}

async function signIn(event) {
  event.preventDefault();
  const input = $("token");
  const token = input.value.trim();
  if (!token) return;
  const button = event.currentTarget.querySelector("button[type=submit]");
  button.disabled = true;
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await api("/relay/stats");
    input.value = "";
    showAlert("");
    show();
  } catch (error) {
    if (!(error instanceof SignedOut)) {
      sessionStorage.removeItem(TOKEN_KEY);
      reportError(error);
    }
  } finally {
    button.disabled = false;
  }
}

$("sign-in-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", () => signOut());
$("recover-form").addEventListener("submit", submitRecover);
$("recover-cancel").addEventListener("click", closeRecover);
$("recover-dialog").addEventListener("close", () => {
  recovering = null;
});
window.addEventListener("hashchange", show);
document.addEventListener("visibilitychange", () => {
  if (document.hidden) clearTimeout(pollTimer);
  else if (!loading) refreshNow();
});
show();
