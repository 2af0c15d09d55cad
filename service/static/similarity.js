// vitgrade instructor page: the similarity section (plain JS, textContent only; uses api(), el(), $() and
// fmt() from app.js, save() and note() from instructor.js).
"use strict";

let similarityRun = null; // the run shown

async function loadSimilarity() {
  const runs = await api("/instructor/similarity/runs");
  similarityRun = runs.length ? runs[0] : null;
  await showSimilarity();
}

async function showSimilarity() {
  const body = $("similarity-pairs").querySelector("tbody");
  $("similarity-fragments").replaceChildren();
  if (!similarityRun) {
    body.replaceChildren();
    note("similarity-note", "No run yet.");
    return;
  }
  const kind = $("similarity-kind").value;
  const result = await api(`/instructor/similarity/runs/${similarityRun.id}?kind=${kind}`);
  const clusters = result.clusters.map((c) => c.members.join(" ~ ")).join("; ");
  note("similarity-note", `Run of ${similarityRun.created_at} by ${similarityRun.created_by}: ${result.documents} ` +
       `documents, ${result.pairs.length} pairs.` + (clusters ? " Clusters: " + clusters + "." : "") +
       (Object.keys(result.unreadable).length ? " Not compared: " + Object.keys(result.unreadable).join(", ") + "." : ""));
  body.replaceChildren(...result.pairs.slice(0, 200).map((pair) => similarityRow(kind, pair)));
}

function similarityRow(kind, pair) {
  const row = el("tr");
  cells(row, [pair.a + " ~ " + pair.b, fmt(pair.similarity), fmt(pair.a_coverage) + " / " + fmt(pair.b_coverage),
              pair.longest_fragment]);
  const status = el("select");
  for (const value of ["open", "to_discuss", "cleared"]) status.appendChild(el("option", value));
  status.value = pair.review ? pair.review.status : "open";
  const remark = el("input");
  remark.placeholder = "note";
  remark.value = pair.review ? pair.review.note : "";
  const keep = el("button", "Save");
  keep.addEventListener("click", async () => {
    try {
      await api("/instructor/similarity/reviews", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kind, a: pair.a, b: pair.b, status: status.value, note: remark.value }),
      });
      keep.textContent = "Saved";
    } catch (error) { note("similarity-note", error.message); }
  });
  const review = el("td");
  review.append(status, remark, keep);
  const show = el("button", "Fragments");
  show.addEventListener("click", () => showFragments(pair));
  const last = el("td");
  last.appendChild(show);
  row.append(review, last);
  return row;
}

function showFragments(pair) {
  const blocks = pair.fragments.map((f) => {
    const block = el("div", null, "fragment");
    const where = (f.part ? f.part + ": " : "") + `${pair.a} lines ${f.a_lines[0]}-${f.a_lines[1]}, ` +
                  `${pair.b} lines ${f.b_lines[0]}-${f.b_lines[1]} (${f.tokens} tokens)`;
    block.append(el("h4", where), el("pre", f.a_text), el("pre", f.b_text));
    return block;
  });
  $("similarity-fragments").replaceChildren(el("h3", pair.a + " ~ " + pair.b), ...blocks);
}

async function similarityCsv(anonymise) {
  if (!similarityRun) return;
  const kind = $("similarity-kind").value;
  const text = await api(`/instructor/similarity/runs/${similarityRun.id}/pairs.csv?kind=${kind}&anonymise=${anonymise}`);
  save(`similarity-${kind}${anonymise ? "-anonymised" : ""}.csv`, text, "text/csv");
}

function setUpSimilarity() {
  $("similarity-run").addEventListener("click", async () => {
    note("similarity-note", "Comparing...");
    try {
      similarityRun = await api("/instructor/similarity/runs", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
      });
      await showSimilarity();
    } catch (error) { note("similarity-note", error.message); }
  });
  $("similarity-kind").addEventListener("change", () => showSimilarity().catch((e) => note("similarity-note", e.message)));
  $("similarity-csv").addEventListener("click", () => similarityCsv(false));
  $("similarity-csv-anonymised").addEventListener("click", () => similarityCsv(true));
}

// Wire the section into the instructor page when it opens. The page's own opener keeps its "ready" flag on
// the global name (window.openInstructorPage), which is this wrapper from now on: leave that flag to it.
let similarityReady = false;
const openInstructorPageWithoutSimilarity = window.openInstructorPage;
window.openInstructorPage = function openWithSimilarity() {
  openInstructorPageWithoutSimilarity();
  if (!similarityReady) {
    similarityReady = true;
    setUpSimilarity();
  }
  loadSimilarity().catch((error) => note("similarity-note", error.message));
};
