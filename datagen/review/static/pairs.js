// Pairs and blind modes: two answers side by side; A, B, tie or skip, then the next item at once.
// Labels are sent one after another (each fsynced before the next); the page never waits for them.
"use strict";
R.pairs = (function () {
  const { $, api, save, el, setText } = R;
  let mode = "pairs";
  let total = 0;
  let pos = 0;
  let cache = {};
  let shownAt = 0;
  let chain = Promise.resolve();
  let started = null;

  const HELP = [["a 1 ←", "A is better"], ["b 2 →", "B is better"], ["t 3 ↓", "tie"], ["s Space", "skip"],
    ["u Backspace ↑", "back one item"], ["g", "show or hide the guidelines"], ["k", "agreement"], ["?", "this help"],
    ["m", "next mode"]];
  const KEYS = { a: "A", A: "A", 1: "A", ArrowLeft: "A", b: "B", B: "B", 2: "B", ArrowRight: "B",
    t: "tie", T: "tie", 3: "tie", ArrowDown: "tie", "=": "tie", s: "skip", S: "skip", " ": "skip" };

  async function item(n) {
    if (!cache[n]) cache[n] = api("pairs/" + mode + "/" + n);
    try { return await cache[n]; } catch (e) { delete cache[n]; throw e; }
  }

  async function show(n) {
    pos = n;
    const at = $("pair-pos");
    if (n >= total) { done(); return; }
    $("pairs-done").hidden = true;
    $("prompt").parentElement.hidden = false;
    const it = await item(n);
    if (pos !== n) return; // a later key moved on while this one loaded
    setText("prompt", it.prompt);
    setText("text-a", it.A);
    setText("text-b", it.B);
    setText("name-a", it.names ? it.names.A : "");
    setText("name-b", it.names ? it.names.B : "");
    at.textContent = "item " + (n + 1) + " of " + total;
    at.dataset.n = String(n + 1);
    at.dataset.key = it.key;
    const tag = $("pair-label");
    tag.hidden = !it.label;
    tag.textContent = it.label ? "your label: " + it.label : "";
    $("side-a").classList.toggle("picked", it.label === "A");
    $("side-b").classList.toggle("picked", it.label === "B");
    shownAt = performance.now();
    if (n + 1 < total) item(n + 1).catch(() => {});
  }

  function label(l) {
    const n = pos;
    if (n >= total) return;
    const ms = Math.round(performance.now() - shownAt);
    if (cache[n]) cache[n].then((it) => { it.label = l; }).catch(() => {});
    chain = chain.catch(() => {}).then(() => save("pairs/" + mode + "/" + n, { label: l, ms }))
      .catch(() => { show(n); });
    show(n + 1);
  }

  async function done() {
    $("prompt").parentElement.hidden = true;
    $("pairs-done").hidden = false;
    const at = $("pair-pos");
    at.textContent = "all " + total + " items seen";
    at.dataset.n = String(total + 1);
    await chain.catch(() => {});
    const s = await api("summary/" + mode);
    setText("pairs-done-text", "You labelled every item. " + (s.labelled || 0) + " items have a label from " +
      (s.annotators || []).length + " annotator(s). Commit writes them as a pair version.");
    results(s);
  }

  function results(s) {
    const box = $("blind-results");
    box.replaceChildren();
    $("reveal-btn").hidden = !(mode === "blind" && s.hidden);
    if (s.hidden) { box.append(el("p", s.hidden, "muted")); return; }
    if (!s.win_rates || !s.win_rates.length) return;
    const table = el("table");
    const head = el("tr");
    ["models", "items", "human win rate of the first (95% CI)", "judge, same items", "judge, all prompts"]
      .forEach((h) => head.append(el("th", h)));
    table.append(head);
    for (const w of s.win_rates) {
      const tr = el("tr");
      const all = w.judge_all ? R.ci({ mean: w.judge_all.win_rate, ci95: w.judge_all.ci95 }) : "-";
      [w.a + " vs " + w.b, w.items, R.ci(w.human), R.ci(w.judge_same_items), all].forEach((c) => tr.append(el("td", c)));
      table.append(tr);
    }
    box.append(table);
  }

  function key(e) {
    if (e.key in KEYS) { label(KEYS[e.key]); return true; }
    if (e.key === "u" || e.key === "Backspace" || e.key === "ArrowUp") { if (pos > 0) show(pos - 1); return true; }
    if (e.key === "g" && !$("guide-btn").hidden) { $("guidelines").hidden = !$("guidelines").hidden; return true; }
    return false;
  }

  async function start(m) {
    R.helpRows(HELP);
    if (started === m) return;
    started = m;
    mode = m;
    cache = {};
    const st = await api("pairs/" + mode);
    total = st.total;
    if (st.guidelines) {
      R.markdown($("guidelines"), st.guidelines);
      $("guidelines").hidden = false;
      $("guide-btn").hidden = false;
    }
    await show(st.position);
  }

  function wire() {
    $("guide-btn").addEventListener("click", () => { $("guidelines").hidden = !$("guidelines").hidden; });
    $("reveal-btn").addEventListener("click", async () => { results(await save("reveal/" + mode, {})); });
  }
  wire();

  return { start, key, HELP, current: () => pos };
})();
