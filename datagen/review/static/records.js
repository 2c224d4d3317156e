// Records mode: one record at a time (j/k), filters, accept (a), reject with a reason (r), edit (e).
"use strict";
R.records = (function () {
  const { $, api, save, el, setText } = R;
  let list = [];      // summaries of the records the filters let through
  let cursor = 0;     // position in list
  let current = null; // the full record shown
  let facetsDone = false;
  let timer = null;

  const HELP = [["j ↓ n", "next record"], ["k ↑ p", "previous record"], ["a", "accept (keep it)"],
    ["r", "reject with a reason"], ["e", "edit the output"], ["c", "clear your decision"], ["/", "search"],
    ["Esc", "leave a field or panel"], ["?", "this help"], ["m", "next mode"]];

  function query() {
    const params = new URLSearchParams();
    for (const node of $("filters").elements) if (node.name && node.value.trim()) params.set(node.name, node.value.trim());
    return params.toString();
  }

  function fill(select, values) {
    for (const v of values) select.append(new Option(String(v), String(v)));
  }

  async function load(keepI) {
    const data = await api("records?" + query());
    list = data.items;
    if (!facetsDone) {
      fill($("f-method"), data.facets.methods);
      fill($("f-reason"), data.facets.reasons);
      facetsDone = true;
    }
    const at = keepI === undefined ? -1 : list.findIndex((s) => s.i === keepI);
    cursor = at >= 0 ? at : 0;
    await show();
  }

  async function show() {
    if (!list.length) {
      current = null;
      setText("rec-pos", "no record matches the filters");
      $("rec-pos").dataset.i = "";
      $("rec-pos").dataset.shown = "0";
      $("rec").hidden = true;
      return;
    }
    cursor = Math.max(0, Math.min(cursor, list.length - 1));
    render(await api("records/" + list[cursor].i));
  }

  function render(item) {
    current = item;
    $("rec").hidden = false;
    const pos = $("rec-pos");
    pos.textContent = "record " + (cursor + 1) + " of " + list.length + " shown (" + item.status + ")";
    pos.dataset.i = String(item.i);
    pos.dataset.shown = String(list.length);
    pos.dataset.key = item.key;
    const st = item.state || {};
    setText("rec-instruction", item.instruction);
    setText("rec-input", item.input);
    $("rec-input-box").hidden = !item.input;
    const edited = st.output !== null && st.output !== undefined;
    setText("rec-output", edited ? st.output : item.output);
    $("rec-edited").hidden = !edited;
    setText("rec-rejected", item.rejected);
    $("rec-rejected-box").hidden = item.rejected === null || item.rejected === undefined;
    const msgs = $("rec-messages");
    msgs.replaceChildren();
    for (const m of item.messages || []) {
      const box = el("div", null, "msg");
      box.append(el("b", m.role), el("span", m.content));
      msgs.append(box);
    }
    $("rec-messages-box").hidden = !(item.messages && item.messages.length);
    const lin = item.lineage || {};
    setText("rec-meta", "id " + item.id + "\nmethod " + lin.method + " · step " + lin.step +
      (lin.operation ? " · " + lin.operation : "") + (lin.teacher ? " · teacher " + lin.teacher : "") +
      (item.score !== null ? "\njudge score " + item.score : "") +
      (item.status === "rejected" ? "\nrejected: " + item.reason + " @ " + item.stage + (item.detail ? " (" + item.detail + ")" : "") : ""));
    const badges = $("rec-badges");
    badges.replaceChildren(el("span", item.status === "kept" ? "kept" : "rejected: " + item.reason,
      item.status === "kept" ? "tag ok" : "tag bad"));
    if (st.status === "accepted") badges.append(" ", el("span", "accepted by a person", "tag ok"));
    if (st.status === "rejected") badges.append(" ", el("span", "rejected by a person: " + st.reason, "tag bad"));
    badges.dataset.human = st.status || "";
  }

  async function act(body, advance) {
    const item = await save("records/" + current.i, body);
    const s = list[cursor];
    if (s) s.human = (item.state || {}).status || "";
    render(item);
    if (advance && cursor < list.length - 1) {
      cursor += 1;
      await show();
    }
  }

  function openPanel(id, focus) { $(id).hidden = false; $(focus).focus(); }
  function closePanels() { $("rec-edit").hidden = true; $("rec-reject").hidden = true; }

  function startEdit() {
    const st = current.state || {};
    $("edit-text").value = st.output !== null && st.output !== undefined ? st.output : (current.output || "");
    openPanel("rec-edit", "edit-text");
  }
  async function saveEdit() { closePanels(); await act({ action: "edit", output: $("edit-text").value }, false); }
  async function saveReject() {
    const reason = $("reject-reason").value.trim();
    if (!reason) { R.showError("a rejection needs a reason"); return; }
    closePanels();
    $("reject-reason").value = "";
    await act({ action: "reject", reason }, true);
  }

  function key(e) {
    if (!current && !["/", "?", "m"].includes(e.key)) return false;
    const moves = { j: 1, ArrowDown: 1, n: 1, k: -1, ArrowUp: -1, p: -1 };
    if (e.key in moves) { cursor += moves[e.key]; show(); return true; }
    if (e.key === "a") { act({ action: "accept" }, true); return true; }
    if (e.key === "c") { act({ action: "clear" }, false); return true; }
    if (e.key === "r") { openPanel("rec-reject", "reject-reason"); return true; }
    if (e.key === "e") { startEdit(); return true; }
    if (e.key === "/") { $("f-q").focus(); return true; }
    return false;
  }

  function wire() {
    $("filters").addEventListener("submit", (e) => e.preventDefault());
    $("filters").addEventListener("change", () => load());
    $("filters").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => load(), 250); });
    $("edit-save").addEventListener("click", saveEdit);
    $("edit-cancel").addEventListener("click", closePanels);
    $("reject-save").addEventListener("click", saveReject);
    $("reject-cancel").addEventListener("click", closePanels);
    $("edit-text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); saveEdit(); }
      if (e.key === "Escape") { closePanels(); e.target.blur(); }
    });
    $("reject-reason").addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); saveReject(); }
      if (e.key === "Escape") { closePanels(); e.target.blur(); }
    });
  }

  let started = false;
  async function start() {
    R.helpRows(HELP);
    if (!started) { wire(); started = true; await load(); }
  }

  return { start, key, HELP };
})();
