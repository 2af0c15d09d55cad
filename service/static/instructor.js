// vitgrade instructor page (same stack as the student page: plain JS, textContent only). Uses api(), el(),
// $() and fmt() from app.js. The token stays in localStorage and goes only in the Authorization header, so
// a cross-site form cannot act with it (no cookies: nothing for CSRF to ride on).
"use strict";

let opened = null; // the submission shown in the detail panel

function save(name, text, type) {
  const link = el("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

function note(id, text) { $(id).textContent = text; }

function cells(row, values) { for (const v of values) row.appendChild(el("td", v === null || v === undefined ? "" : v)); }

async function loadGrades() {
  const [rows, stats] = await Promise.all([api("/instructor/grades"), api("/instructor/stats")]);
  $("grades").querySelector("tbody").replaceChildren(...rows.map((g) => {
    const row = el("tr", null, g.timing || "");
    cells(row, [g.student, g.submission ? g.submission.slice(0, 8) : "", g.timing, g.credit_percent,
                g.raw_score === null ? "" : fmt(g.raw_score), g.final_score === null ? "" : fmt(g.final_score)]);
    return row;
  }));
  const plots = [];
  for (const q of stats.questions) {
    const values = rows.filter((g) => q.question in g.questions).map((g) => g.questions[q.question]);
    plots.push(histogram(q.question, values, q.max_score));
  }
  $("histograms").replaceChildren(...plots);
}

function histogram(name, values, max) {
  // ten bins of the question's points; each bar's width is its share of the students
  const box = el("figure", null, "histogram");
  box.dataset.question = name;
  box.appendChild(el("figcaption", name + " (" + values.length + " students, max " + fmt(max) + ")"));
  const bins = new Array(10).fill(0);
  for (const v of values) bins[Math.min(9, Math.floor((max > 0 ? v / max : 0) * 10))] += 1;
  bins.forEach((count, i) => {
    const line = el("div", null, "bin");
    line.appendChild(el("span", Math.round(i * 10) + "-" + Math.round(i * 10 + 10) + "%", "label"));
    const bar = el("span", null, "bar");
    bar.style.width = (values.length ? (100 * count) / values.length : 0) + "%";
    line.appendChild(bar);
    line.appendChild(el("span", String(count), "count"));
    box.appendChild(line);
  });
  return box;
}

let pageOffset = 0;  // the submissions table shows one page: newest first, pageSize() rows from pageOffset

function pageSize() { return Number($("page-size").value); }

async function loadSubmissions() {
  const params = new URLSearchParams();
  if ($("filter-student").value.trim()) params.set("student", $("filter-student").value.trim());
  if ($("filter-status").value) params.set("status", $("filter-status").value);
  params.set("limit", String(pageSize() + 1));  // one more row than shown: is there a next page?
  params.set("offset", String(pageOffset));
  let rows;
  try { rows = await api("/instructor/submissions?" + params.toString()); } catch (error) { rows = []; note("override-note", error.message); }
  const more = rows.length > pageSize();
  rows = rows.slice(0, pageSize());
  $("page-prev").disabled = pageOffset === 0;
  $("page-next").disabled = !more;
  $("page-range").textContent = rows.length ? "rows " + (pageOffset + 1) + "-" + (pageOffset + rows.length)
    : pageOffset ? "no rows past " + pageOffset : "no submissions";
  $("submissions").querySelector("tbody").replaceChildren(...rows.map((s) => {
    const row = el("tr");
    row.dataset.id = s.id;
    cells(row, [new Date(s.created_at).toLocaleString(), s.student, s.status,
                s.score === null ? "" : fmt(s.score) + " / " + fmt(s.max_score)]);
    const open = el("button", "open");
    open.addEventListener("click", () => openSubmission(s));
    row.appendChild(el("td")).appendChild(open);
    return row;
  }));
}

async function openSubmission(s) {
  opened = s;
  $("detail").hidden = false;
  $("detail").dataset.id = s.id;
  $("detail-id").textContent = s.id;
  $("detail-files").replaceChildren(...s.files.map((f, i) => {
    const item = el("li");
    const link = el("button", f.name + " (" + f.size + " bytes)", "link");
    link.addEventListener("click", () => download(s.id, i, f.name));
    item.appendChild(link);
    return item;
  }));
  const body = $("detail-checks").querySelector("tbody");
  body.replaceChildren();
  let report, decided = { effective: [] };
  try { report = await api("/instructor/submissions/" + encodeURIComponent(s.id) + "/report"); } catch (error) { note("override-note", error.message); return; }
  try { decided = await api("/instructor/submissions/" + encodeURIComponent(s.id) + "/overrides"); } catch (error) { /* no grade yet */ }
  const effective = new Map(decided.effective.map((e) => [e.check_id, e]));
  body.replaceChildren(...report.checks.map((c) => {
    const row = el("tr", null, c.status);
    const e = effective.get(c.id);
    cells(row, [c.id, fmt(c.score), e ? fmt(e.score) + (e.stale ? " (stale)" : "") : "", fmt(c.max_score), c.message]);
    return row;
  }));
}

async function download(id, index, name) {
  const response = await fetch(API + "/instructor/submissions/" + encodeURIComponent(id) + "/files/" + index,
                               { headers: { Authorization: "Bearer " + token() } });
  save(name, await response.blob(), "application/octet-stream");
}

async function override(event) {
  event.preventDefault();
  const id = $("detail").dataset.id;
  const body = { check_id: $("override-check").value.trim(), reason: $("override-reason").value.trim(),
                 feedback: $("override-feedback").value, full_credit: $("override-full").checked };
  if (!body.full_credit) body.score = Number($("override-score").value);
  try {
    const result = await api("/instructor/submissions/" + encodeURIComponent(id) + "/overrides",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    note("override-note", "Saved: effective score " + fmt(result.effective_score) + ".");
    await openSubmission(opened);
    loadGrades();
  } catch (error) { note("override-note", error.message); }
}

async function loadReview(event) {
  if (event) event.preventDefault();
  const question = $("review-question").value;
  const seed = Math.floor(Math.random() * 1000000); // each load, its own order of the single answers
  let queue;
  try { queue = await api("/instructor/review/" + encodeURIComponent(question) + "?seed=" + seed); } catch (error) { note("review-note", error.message); return; }
  note("review-note", queue.groups.length + " groups for " + queue.check_id + ".");
  $("review-groups").replaceChildren(...queue.groups.map((g) => {
    const box = el("div", null, "card review-group");
    box.appendChild(el("h3", g.size + (g.size > 1 ? " similar answers" : " answer")));
    for (const a of g.answers) {
      box.appendChild(el("p", a.student + ": " + fmt(a.effective_score) + " / " + fmt(a.max_score) +
        " (found: " + (a.found.join(", ") || "none") + "; missing: " + (a.missing.join(", ") || "none") + ")", "muted"));
      box.appendChild(el("blockquote", a.text, "message"));
    }
    const form = el("form");
    const score = el("input"); score.type = "number"; score.step = "any"; score.min = "0"; score.placeholder = "score";
    const reason = el("input"); reason.placeholder = "reason (required)"; reason.required = true;
    const feedback = el("input"); feedback.placeholder = "feedback to the students";
    form.append(score, reason, feedback, el("button", "Apply to the group"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { submissions: g.answers.map((a) => a.submission_id), score: Number(score.value),
                     reason: reason.value.trim(), feedback: feedback.value };
      try {
        await api("/instructor/review/" + encodeURIComponent(question) + "/decide",
          { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        note("review-note", "Applied to " + g.size + " submissions.");
        loadReview(); loadGrades();
      } catch (error) { note("review-note", error.message); }
    });
    box.appendChild(form);
    return box;
  }));
}

async function loadRequests() {
  const open = await api("/instructor/regrade-requests");
  note("requests-note", open.length ? open.length + " open." : "None open.");
  $("requests").replaceChildren(...open.map((r) => {
    const box = el("div", null, "request");
    box.appendChild(el("p", r.student + " on " + r.check_id + " (" + r.submission_id.slice(0, 8) + "): " + r.message));
    const form = el("form");
    const reply = el("input"); reply.placeholder = "reply to the student"; reply.required = true;
    const score = el("input"); score.type = "number"; score.step = "any"; score.min = "0"; score.placeholder = "new score (optional)";
    form.append(reply, score, el("button", "Answer"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { reply: reply.value.trim() };
      if (score.value !== "") body.score = Number(score.value);
      try {
        await api("/instructor/regrade-requests/" + r.id + "/answer",
          { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        loadRequests(); loadGrades();
      } catch (error) { note("requests-note", error.message); }
    });
    box.appendChild(form);
    return box;
  }));
}

async function loadPolicy() {
  const current = await api("/instructor/policy");
  $("policy-json").value = JSON.stringify(current.policy, null, 2);
  note("policy-summary", current.due_local ? "Due " + current.due_local + (current.close_local ? "; closes " + current.close_local : "") + " (version " + current.version + ")." : "No due time set.");
  const history = await api("/instructor/extensions");
  $("extensions").querySelector("tbody").replaceChildren(...history.map((x) => {
    const row = el("tr");
    cells(row, [new Date(x.created_at).toLocaleString(), x.student, x.action, x.due_at ? new Date(x.due_at).toLocaleString() : "", x.author, x.reason]);
    return row;
  }));
}

async function savePolicy() {
  let body;
  try { body = JSON.parse($("policy-json").value); } catch (error) { note("policy-note", "Not valid JSON: " + error.message); return; }
  try {
    await api("/instructor/policy", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    note("policy-note", "Saved; grades are re-priced.");
    loadPolicy(); loadGrades();
  } catch (error) { note("policy-note", error.message); }
}

async function grant(event) {
  event.preventDefault();
  const body = { student: $("extension-student").value.trim(), due_at: $("extension-due").value.trim(), reason: $("extension-reason").value.trim() };
  try {
    await api("/instructor/extensions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    note("policy-note", "Extension granted to " + body.student + ".");
    loadPolicy(); loadGrades();
  } catch (error) { note("policy-note", error.message); }
}

async function loadRoster() {
  const users = await api("/instructor/roster");
  $("roster").querySelector("tbody").replaceChildren(...users.map((u) => {
    const row = el("tr", null, u.revoked_at ? "revoked" : "");
    cells(row, [u.name, u.role, u.email, u.sis_id, u.revoked_at ? "revoked" : "active"]);
    const actions = el("td");
    const fresh = el("button", "new token");
    fresh.addEventListener("click", async () => {
      try {
        const issued = await api("/instructor/roster/" + encodeURIComponent(u.name) + "/token", { method: "POST" });
        save("token-" + u.name + ".txt", issued.token + "\n", "text/plain");
        note("roster-note", "New token for " + u.name + " downloaded (shown once); the old one no longer works.");
        loadRoster();
      } catch (error) { note("roster-note", error.message); }
    });
    const revoke = el("button", "revoke");
    revoke.addEventListener("click", async () => {
      try {
        await api("/instructor/roster/" + encodeURIComponent(u.name) + "/revoke", { method: "POST" });
        note("roster-note", u.name + "'s token is revoked.");
        loadRoster();
      } catch (error) { note("roster-note", error.message); }
    });
    actions.append(fresh, revoke);
    row.appendChild(actions);
    return row;
  }));
}

async function upload(path, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  return api(path, { method: "POST", body: form });
}

async function ltiPush(dryRun) {
  // LTI 1.3 grade push: the summary, written as text (names come from the roster and the LMS)
  if (!dryRun && !window.confirm("Post every matched student's final score to the LMS gradebook?")) return;
  note("export-note", dryRun ? "Matching the roster with the LMS course..." : "Pushing scores to the LMS...");
  try {
    const s = await api("/instructor/exports/lti" + (dryRun ? "?dry_run=true" : ""), { method: "POST" });
    const list = (names) => names.join(", ") || "none";
    note("export-note", (s.dry_run ? "Dry run: would post " : "Posted ") + s.pushed.length +
         (s.pushed.length === 1 ? " score" : " scores") +
         (s.lineitem_created ? " to a new column" : "") + ". Refused: " +
         list(s.failed.map((f) => f.student + " (" + (f.status || "no answer") + ": " + f.message + ")")) +
         ". Nothing counts yet: " + list(s.no_grade) + ". Not in the LMS course: " + list(s.unmatched) +
         ". In the LMS, not on the roster: " + list(s.learners_not_in_roster) + ".");
  } catch (error) { note("export-note", error.message); }
}

function openInstructorPage() {
  if (openInstructorPage.ready) { refreshAll(); return; }
  openInstructorPage.ready = true;
  $("refresh-grades").addEventListener("click", loadGrades);
  $("download-grades").addEventListener("click", async () => save("grades.csv", await api("/instructor/grades.csv"), "text/csv"));
  $("download-moodle").addEventListener("click", async () => {
    const result = await api("/instructor/exports/moodle");
    save("moodle.csv", result.csv, "text/csv");
    note("export-note", result.missing_in_lms.length ? "Without an email: " + result.missing_in_lms.join(", ") : "");
  });
  $("canvas-file").addEventListener("change", async (event) => {
    try {
      const result = await upload("/instructor/exports/canvas", event.target.files[0]);
      save("canvas-import.csv", result.csv, "text/csv");
      note("export-note", "Column " + result.column + ". Not in Canvas: " + (result.missing_in_lms.join(", ") || "none") +
           ". Not on the roster: " + (result.missing_in_roster.join(", ") || "none") + ".");
    } catch (error) { note("export-note", error.message); }
  });
  $("lti-dry-run").addEventListener("click", () => ltiPush(true));
  $("lti-push").addEventListener("click", () => ltiPush(false));
  $("roster-file").addEventListener("change", async (event) => {
    try {
      const result = await upload("/instructor/roster", event.target.files[0]);
      const created = Object.entries(result.created).map(([name, t]) => [name, t]);
      if (created.length) save("tokens.csv", "name,token\r\n" + created.map((p) => p.join(",")).join("\r\n") + "\r\n", "text/csv");
      note("roster-note", created.length + " added (tokens downloaded once), " + result.updated.length + " updated" +
           (result.problems.length ? "; skipped: " + result.problems.join("; ") : "."));
      loadRoster();
    } catch (error) { note("roster-note", error.message); }
  });
  $("filter-form").addEventListener("submit", (event) => { event.preventDefault(); pageOffset = 0; loadSubmissions(); });
  $("page-size").addEventListener("change", () => { pageOffset = 0; loadSubmissions(); });
  $("page-prev").addEventListener("click", () => { pageOffset = Math.max(0, pageOffset - pageSize()); loadSubmissions(); });
  $("page-next").addEventListener("click", () => { pageOffset += pageSize(); loadSubmissions(); });
  $("override-form").addEventListener("submit", override);
  $("save-policy").addEventListener("click", savePolicy);
  $("extension-form").addEventListener("submit", grant);
  $("review-form").addEventListener("submit", loadReview);
  refreshAll();
}

function refreshAll() {
  for (const load of [loadGrades, loadSubmissions, loadRequests, loadPolicy, loadRoster]) load().catch((error) => note("export-note", error.message));
}

window.openInstructorPage = openInstructorPage;
