// The review page: mode tabs, the keyboard, help, agreement and commit.
"use strict";
(function () {
  const { $, api, save, el } = R;
  let info = null;
  let mode = null;
  const overlays = ["overlay", "summary"];

  async function switchTo(m) {
    mode = m;
    for (const b of $("modes").children) b.setAttribute("aria-pressed", String(b.dataset.mode === m));
    $("records").hidden = m !== "records";
    $("pairs").hidden = m === "records";
    if (m === "records") await R.records.start();
    else await R.pairs.start(m);
  }

  function closeOverlays() {
    let any = false;
    for (const id of overlays) if (!$(id).hidden) { $(id).hidden = true; any = true; }
    return any;
  }

  function row(table, a, b) { const tr = el("tr"); tr.append(el("td", a), el("td", b)); table.append(tr); }
  function share(d) { return d.agreement === null ? "-" : R.pct(d.agreement) + " (" + d.n + " vote pairs)"; }

  async function showSummary() {
    const s = await api("summary/" + mode);
    const body = $("summary-body");
    body.replaceChildren();
    const t = el("table");
    const k = s.agreement.kappa;
    row(t, "annotators", (s.annotators || []).join(", ") || "-");
    row(t, "items decided", String(s.labelled));
    row(t, k.kind === "fleiss" ? "Fleiss' kappa" : "Cohen's kappa",
      k.kappa === null ? "- (" + k.items + " items in common)" : k.kappa.toFixed(3) + " (" + k.items + " items)");
    row(t, "human-human agreement, ties counted", share(s.agreement.human_human.ties));
    row(t, "human-human agreement, ties excluded", share(s.agreement.human_human.no_ties));
    if (s.agreement.human_judge) {
      row(t, "human-judge agreement, ties counted", share(s.agreement.human_judge.ties));
      row(t, "human-judge agreement, ties excluded", share(s.agreement.human_judge.no_ties));
    }
    for (const w of s.win_rates || []) {
      row(t, w.a + " vs " + w.b, "human " + R.ci(w.human) + " · judge " + R.ci(w.judge_same_items) + " (" + w.items + " items)");
    }
    body.append(t);
    if (s.hidden) body.append(el("p", s.hidden, "muted"));
    body.append(el("p", "MT-Bench (Zheng et al. 2023, Table 5): GPT-4 vs human 66% with ties, 85% without; " +
      "human vs human 63% and 81%.", "muted small"));
    $("summary").hidden = false;
  }

  async function commit() {
    try {
      const out = await save("commit/" + mode, {});
      R.toast((out.unchanged ? "unchanged: " : "wrote ") + out.ref);
      $("commit-btn").dataset.ref = out.ref;
    } catch (e) { /* shown by save */ }
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") { if (closeOverlays()) e.preventDefault(); else if (R.typing(e)) e.target.blur(); return; }
    if (R.typing(e)) return;
    if (e.key === "?") { $("overlay").hidden = !$("overlay").hidden; e.preventDefault(); return; }
    if (closeOverlays()) { e.preventDefault(); return; }
    if (e.key === "m") { switchTo(info.modes[(info.modes.indexOf(mode) + 1) % info.modes.length]); return; }
    if (e.key === "k" && mode !== "records") { showSummary(); e.preventDefault(); return; }
    const handled = mode === "records" ? R.records.key(e) : R.pairs.key(e);
    if (handled) e.preventDefault();
  }

  async function boot() {
    info = await api("info");
    $("target").textContent = info.target + " · " + (info.kind === "eval" ? "eval" : "version");
    $("who").textContent = "annotator " + info.annotator;
    for (const m of info.modes) {
      const b = el("button", m);
      b.type = "button";
      b.dataset.mode = m;
      b.addEventListener("click", () => switchTo(m));
      $("modes").append(b);
    }
    $("help-btn").addEventListener("click", () => { $("overlay").hidden = false; });
    $("help-close").addEventListener("click", () => { $("overlay").hidden = true; });
    $("summary-btn").addEventListener("click", showSummary);
    $("summary-close").addEventListener("click", () => { $("summary").hidden = true; });
    $("commit-btn").addEventListener("click", commit);
    document.addEventListener("keydown", onKey);
    window.addEventListener("beforeunload", (e) => { if (R.state.pending) e.preventDefault(); });
    R.showSaved();
    await switchTo(info.mode);
    document.body.dataset.ready = "1";
  }

  boot().catch((e) => R.showError(e.message));
})();
