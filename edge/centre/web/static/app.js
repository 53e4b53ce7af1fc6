// LiveGuard centre page. Everything a device sent (OCR text, speech, names) is set with textContent, never as HTML.
"use strict";

function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function resultRow(r) {
  const tr = document.createElement("tr");
  tr.className = "result-row fresh";
  tr.dataset.id = r.evidence_id;
  const first = cell(tr, "");
  const link = document.createElement("a");
  link.href = "/results/" + encodeURIComponent(r.evidence_id);
  link.textContent = r.received_at;
  first.appendChild(link);
  cell(tr, r.site + " / " + r.device + " / " + r.stream);
  cell(tr, r.brand || "—", "brand");
  cell(tr, r.product_name || "—", "product");
  cell(tr, r.price || "—");
  cell(tr, r.engine || "");
  cell(tr, (r.low_confidence || []).join(", "), "low");
  cell(tr, r.claims ? String(r.claims) : "", "claims");
  return tr;
}

// The list updates live: ask for what arrived after the newest row shown, with the page's own filters.
function followResults() {
  const table = document.getElementById("results");
  if (!table) return;
  let newest = parseFloat(table.dataset.newest || "0");
  const filters = new URLSearchParams(window.location.search);
  filters.delete("after");
  async function poll() {
    const query = new URLSearchParams(filters);
    if (newest > 0) query.set("after", String(newest));
    try {
      const response = await fetch("/api/results?" + query.toString(), {credentials: "same-origin"});
      if (response.status === 401) { window.location = "/login?next=/results"; return; }
      if (response.ok) {
        const body = await response.json();
        const rows = body.results || [];
        const tbody = table.tBodies[0];
        for (let i = rows.length - 1; i >= 0; i--) {
          if (!tbody.querySelector('tr[data-id="' + CSS.escape(rows[i].evidence_id) + '"]')) {
            tbody.insertBefore(resultRow(rows[i]), tbody.firstChild);
          }
          newest = Math.max(newest, rows[i].received);
        }
        if (rows.length) {
          const none = document.getElementById("no-results");
          if (none) none.remove();
        }
      }
    } catch (e) { /* the centre restarting: try again next time */ }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
}

// Each keyframe is asked of the box that kept it; the page says why when it cannot be shown.
function loadKeyframes() {
  document.querySelectorAll("figure.keyframe").forEach(async (figure) => {
    const status = figure.querySelector(".keyframe-status");
    const image = figure.querySelector("img.keyframe-image");
    const path = encodeURIComponent(figure.dataset.evidence) + "/" + encodeURIComponent(figure.dataset.index);
    try {
      const response = await fetch("/api/keyframes/" + path, {credentials: "same-origin"});
      const state = await response.json();
      if (state.available) {
        image.addEventListener("load", () => { status.textContent = "sha256 checked"; figure.classList.add("loaded"); });
        image.src = "/keyframes/" + path + ".jpg";
      } else {
        const words = {offline: "The box is offline", rotated: "The box has rotated this keyframe out of its store",
                       "no-answer": "The box did not answer", mismatch: "The box sent a different image", error: "Not available"};
        status.textContent = (words[state.reason] || "Not available") + ": " + state.detail;
        figure.classList.add("unavailable", state.reason);
      }
    } catch (e) {
      status.textContent = "The centre did not answer.";
      figure.classList.add("unavailable");
    }
  });
}

document.addEventListener("DOMContentLoaded", () => { followResults(); loadKeyframes(); });
