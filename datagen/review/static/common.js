// Shared helpers of the review page. Every text from the server goes in with textContent (never
// innerHTML), so a record holding markup shows that markup as text.
"use strict";
window.R = (function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const state = { saved: 0, pending: 0 };

  async function api(path, body) {
    const opts = { headers: { "X-Review-Token": token }, cache: "no-store" };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch("api/" + path, opts);
    const data = await res.json().catch(() => ({ error: res.statusText }));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  // A state-changing call: counted as pending until the journal has it, then as saved.
  async function save(path, body) {
    state.pending += 1;
    showSaved();
    try {
      const out = await api(path, body);
      state.saved += 1;
      hideError();
      return out;
    } catch (e) {
      showError("not saved: " + e.message);
      throw e;
    } finally {
      state.pending -= 1;
      showSaved();
    }
  }

  function showSaved() {
    const el = $("saved");
    el.dataset.pending = String(state.pending);
    el.dataset.saved = String(state.saved);
    el.textContent = state.pending ? "saving " + state.pending + "…" : state.saved + " saved this session";
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function setText(id, text) { $(id).textContent = text === null || text === undefined ? "" : String(text); }
  function showError(msg) { const e = $("error"); e.textContent = msg; e.hidden = false; }
  function hideError() { $("error").hidden = true; }
  let toastTimer = null;
  function toast(msg) {
    const t = $("toast");
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
  }

  // Markdown guidelines as text blocks: headings, list items and paragraphs; no links, no markup.
  function markdown(container, text) {
    container.replaceChildren();
    let para = [];
    const flush = () => { if (para.length) container.append(el("p", para.join(" "))); para = []; };
    for (const raw of String(text).split("\n")) {
      const line = raw.trim();
      const head = /^(#{1,6})\s+(.*)$/.exec(line);
      const item = /^([-*+]|\d+[.)])\s+(.*)$/.exec(line);
      if (!line) flush();
      else if (head) { flush(); container.append(el("h3", head[2])); }
      else if (item) { flush(); container.append(el("div", "• " + item[2])); }
      else para.push(line);
    }
    flush();
  }

  function typing(e) {
    const t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  function helpRows(rows) {
    const table = $("help-table");
    table.replaceChildren();
    for (const [keys, what] of rows) {
      const tr = el("tr");
      const td = el("td");
      keys.split(" ").forEach((k) => { td.append(el("kbd", k), " "); });
      tr.append(td, el("td", what));
      table.append(tr);
    }
  }

  function pct(x) { return x === null || x === undefined ? "-" : (100 * x).toFixed(1) + "%"; }
  function ci(d) {
    if (!d || d.mean === null || d.mean === undefined) return "-";
    return pct(d.mean) + " [" + pct(d.ci95[0]) + ", " + pct(d.ci95[1]) + "]";
  }

  return { token, $, api, save, el, setText, showError, hideError, toast, markdown, typing, helpRows, pct, ci,
           showSaved, state };
})();
