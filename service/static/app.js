// vitgrade student page: plain JS, no build step. Everything that comes from a submission or a
// report is written with textContent (never innerHTML), so nothing a student sends can run here.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "vitgrade.token";
const $ = (id) => document.getElementById(id);
let chosen = [];
let pollTimer = null;
let descriptions = null; // check id -> its description, from /assignment
let standing = new Map(); // submission id -> its lateness and credit, from /course

function token() { return localStorage.getItem(TOKEN_KEY) || ""; }

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {}, { Authorization: "Bearer " + token() });
  const response = await fetch(API + path, Object.assign({}, options, { headers }));
  let body = null;
  const type = response.headers.get("content-type") || "";
  body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : response.statusText;
    // the server's detail is already a sentence; the status code stays on the error, not in the text
    const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    error.status = response.status;
    error.retryAfter = response.headers.get("retry-after");
    throw error;
  }
  return body;
}

async function whoami() {
  if (!token()) { $("whoami").textContent = "No token saved."; updateSubmit(); return; }
  try {
    const me = await api("/me");
    $("whoami").textContent = "Signed in as " + me.name + " (" + me.role + ").";
    const teacher = me.role === "instructor";
    for (const id of ["submit-section", "history-section"]) $(id).hidden = teacher;
    $("instructor").hidden = !teacher;
    if (teacher) window.openInstructorPage(); else loadStanding(); // it reloads the history too
  } catch (error) {
    $("whoami").textContent = "Token not accepted: " + error.message;
  }
  updateSubmit();
}

function updateSubmit() { $("submit").disabled = !(token() && chosen.length); }

function choose(files) {
  chosen = Array.from(files);
  const list = $("chosen");
  list.replaceChildren(...chosen.map((f) => el("li", f.name + " (" + f.size + " bytes)")));
  updateSubmit();
}

async function submit() {
  $("submit-error").textContent = "";
  const form = new FormData();
  for (const file of chosen) form.append("files", file, file.name);
  $("submit").disabled = true;
  try {
    const created = await api("/submissions", { method: "POST", body: form });
    follow(created.id);
    loadHistory();
  } catch (error) {
    let text = error.message;
    if (error.retryAfter) text += " (retry in " + error.retryAfter + " s)";
    $("submit-error").textContent = text;
  } finally {
    updateSubmit();
  }
}

function follow(id) {
  if (pollTimer) clearTimeout(pollTimer);
  $("current-section").hidden = false;
  $("current-id").textContent = id;
  $("report").replaceChildren();
  delete $("report").dataset.shown;
  poll(id);
}

async function poll(id) {
  let status;
  try {
    status = await api("/submissions/" + encodeURIComponent(id));
  } catch (error) {
    $("current-status").textContent = "unknown";
    $("current-detail").textContent = error.message;
    pollTimer = setTimeout(() => poll(id), 3000);
    return;
  }
  const pending = status.status === "queued" || status.status === "running";
  $("current-status").textContent = pending && status.grades.length ? "regrading (" + status.status + ")" : status.status;
  $("current-section").dataset.status = status.status;
  const bar = $("current-progress");
  if (pending) {
    // a regrade: the last finished report stays visible until the new one is ready
    if (status.grades.length && $("report").dataset.shown !== id) await showReport(id);
    bar.hidden = false;
    if (status.status === "queued") {
      $("current-detail").textContent = "position " + status.position + " in the queue";
      bar.removeAttribute("value");
    } else {
      const counted = status.progress_total > 0;
      $("current-detail").textContent = counted
        ? "check " + status.progress_done + " of " + status.progress_total + (status.progress_label ? ": " + status.progress_label : "")
        : "grading...";
      if (counted) { bar.max = status.progress_total; bar.value = status.progress_done; } else { bar.removeAttribute("value"); }
    }
    pollTimer = setTimeout(() => poll(id), 1000);
    return;
  }
  bar.hidden = true;
  $("current-detail").textContent = status.message || "";
  if (status.grades.length) await showReport(id);
  $("current-section").scrollIntoView({ block: "start" });
  loadStanding();
}

async function loadDescriptions() {
  if (descriptions) return descriptions;
  descriptions = new Map();
  try {
    const assignment = await api("/assignment");
    for (const q of assignment.questions) for (const c of q.checks) descriptions.set(c.id, c.description);
  } catch (error) { /* ids are shown instead */ }
  return descriptions;
}

async function showReport(id) {
  const box = $("report");
  box.dataset.shown = id;
  await loadDescriptions();
  let report;
  try {
    report = await api("/submissions/" + encodeURIComponent(id) + "/report");
  } catch (error) {
    box.replaceChildren(el("p", error.message, "error"));
    return;
  }
  const parts = [];
  const score = report.effective_score === undefined ? report.score : report.effective_score;
  const total = el("p", "Score: " + fmt(score) + " / " + fmt(report.max_score), "total");
  total.id = "total-score";
  parts.push(total);
  if (!report.succeeded) parts.push(el("p", "The grader failed on this submission; this is not a grade. " + report.message, "error"));
  else if (!report.gradable) parts.push(el("p", "Not gradable: " + report.message, "error"));
  else if (report.message) parts.push(el("p", report.message, "muted"));
  const byQuestion = new Map();
  for (const q of report.questions) byQuestion.set(q.id, { score: q, checks: [] });
  for (const c of report.checks) {
    if (!byQuestion.has(c.question)) byQuestion.set(c.question, { score: null, checks: [] });
    byQuestion.get(c.question).checks.push(c);
  }
  for (const [qid, entry] of byQuestion) {
    const qscore = entry.score ? (entry.score.effective_score === undefined ? entry.score.score : entry.score.effective_score) : null;
    const heading = el("h3", qid + (entry.score ? ": " + fmt(qscore) + " / " + fmt(entry.score.max_score) : ""));
    const table = el("table");
    table.className = "checks";
    table.dataset.question = qid;
    const head = el("tr");
    for (const h of ["check", "status", "points", "message"]) head.appendChild(el("th", h));
    table.appendChild(el("thead")).appendChild(head);
    const body = table.appendChild(el("tbody"));
    const said = new Set(); // one message once per question: repeats point back to it
    for (const c of entry.checks) {
      const row = el("tr", null, c.status);
      const name = el("td", descriptions.get(c.id) || c.id);
      name.title = c.id;
      row.appendChild(name);
      row.appendChild(el("td", c.status, "status"));
      row.appendChild(el("td", fmt(c.score) + " / " + fmt(c.max_score), "num"));
      const cell = el("td");
      if (c.message && said.has(c.message)) cell.appendChild(el("div", "(same as above)", "muted"));
      else if (c.message) cell.appendChild(el("div", c.message, "message"));
      if (c.hint && !said.has(c.message)) cell.appendChild(el("div", "Hint: " + c.hint, "hint"));
      if (c.message) said.add(c.message);
      if (report.succeeded && !c.hidden) {
        const ask = el("button", "ask for a regrade", "link");
        ask.addEventListener("click", () => askRegrade(id, c.id, cell));
        cell.appendChild(ask);
      }
      if (c.override) {
        cell.appendChild(el("div", "Reviewed by your TA: " + fmt(c.override.score) + " / " + fmt(c.max_score) +
          (c.override.feedback ? ". " + c.override.feedback : "."), "override"));
      }
      row.appendChild(cell);
      body.appendChild(row);
    }
    parts.push(heading, table);
  }
  box.replaceChildren(...parts);
}

async function askRegrade(id, checkId, cell) {
  const message = window.prompt("What should your TA look at again in " + checkId + ", and why?");
  if (!message || !message.trim()) return;
  try {
    await api("/submissions/" + encodeURIComponent(id) + "/regrade-requests",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ check_id: checkId, message }) });
    cell.appendChild(el("div", "Regrade requested; the answer will show here.", "muted"));
  } catch (error) { cell.appendChild(el("div", error.message, "error")); }
}

function fmt(x) { return Number(x).toFixed(2).replace(/\.?0+$/, ""); }

async function loadHistory() {
  if (!token()) return;
  let rows;
  try { rows = await api("/submissions"); } catch (error) { return; }
  const body = $("history").querySelector("tbody");
  body.replaceChildren(...rows.map((s) => {
    const row = el("tr");
    row.dataset.id = s.id;
    row.appendChild(el("td", new Date(s.created_at).toLocaleString()));
    row.appendChild(el("td", s.files.map((f) => f.name).join(", ")));
    row.appendChild(el("td", s.status));
    row.appendChild(el("td", s.score === null ? "" : fmt(s.score) + " / " + fmt(s.max_score), "num"));
    const priced = standing.get(s.id);
    row.appendChild(el("td", priced ? lateness(priced) : "", "late"));
    const open = el("button", "open");
    open.addEventListener("click", () => follow(s.id));
    row.appendChild(el("td")).appendChild(open);
    return row;
  }));
}

function lateness(p) {
  const when = p.timing === "on_time" ? "on time" : p.timing === "practice" ? "after the close (practice, no credit)"
    : fmt(p.late_minutes) + " min late";
  return when + ", credit " + fmt(p.credit_percent) + "%" + (p.counts ? " (counts)" : "");
}

async function loadStanding() {
  let mine;
  try { mine = await api("/course"); } catch (error) { return; }
  standing = new Map(mine.submissions.map((s) => [s.id, s]));
  let text = mine.due_local ? "Due " + mine.due_local : "No due time.";
  if (mine.extended) text += " (your extension: " + mine.extension_reason + ")";
  if (mine.close_local) text += "; closes " + mine.close_local;
  text += ". Counts: " + mine.counts_rule.replace(/_/g, " ") + (mine.final_score === null ? "." : ", now " + fmt(mine.final_score) + ".");
  $("deadline").textContent = text;
  loadHistory();
}

function setup() {
  $("token").value = token();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $("token").value.trim());
    whoami();
  });
  $("forget").addEventListener("click", () => { localStorage.removeItem(TOKEN_KEY); $("token").value = ""; whoami(); });
  $("files").addEventListener("change", (event) => choose(event.target.files));
  const zone = $("dropzone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => { event.preventDefault(); zone.classList.remove("over"); choose(event.dataTransfer.files); });
  $("submit").addEventListener("click", submit);
  $("refresh-history").addEventListener("click", loadHistory);
  whoami();
}

document.addEventListener("DOMContentLoaded", setup);
