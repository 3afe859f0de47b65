/**
 * The dashboard page served at `/`: one self-contained HTML document (CSS and
 * JavaScript inline, no build step, nothing fetched from the internet) that
 * calls the REST routes of the same server.
 *
 * @module
 */

import { escapeHtml, htmlHead } from "./_html.ts";

/** Options of {@linkcode dashboardHtml}. */
export interface DashboardHtmlOptions {
  /** The CSP nonce that the inline `<style>` and `<script>` carry. */
  nonce: string;
  /** Page title. @default "KPI dashboard" */
  title?: string;
  /** Period shown when the URL names none. @default "last_month" */
  defaultPeriod?: string;
}

const STYLE = String.raw`
:root {
  --bg: #f4f6fb; --panel: #ffffff; --text: #0f172a; --muted: #64748b;
  --line: #e2e8f0; --accent: #4f46e5; --accent-soft: #eef2ff;
  --good: #15803d; --good-soft: #dcfce7; --bad: #b91c1c; --bad-soft: #fee2e2;
  --warn: #b45309; --warn-soft: #fef3c7; --neutral-soft: #f1f5f9;
  --shadow: 0 1px 2px rgba(15, 23, 42, .06), 0 4px 16px rgba(15, 23, 42, .06);
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b1120; --panel: #131c2e; --text: #e2e8f0; --muted: #94a3b8;
    --line: #1e293b; --accent: #818cf8; --accent-soft: #1e1b4b;
    --good: #4ade80; --good-soft: #052e16; --bad: #f87171; --bad-soft: #450a0a;
    --warn: #fbbf24; --warn-soft: #451a03; --neutral-soft: #1e293b;
    --shadow: 0 1px 2px rgba(0, 0, 0, .4);
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header {
  background: var(--panel); border-bottom: 1px solid var(--line);
  padding: 18px 28px; display: flex; flex-wrap: wrap; gap: 16px;
  align-items: center; justify-content: space-between;
}
h1 { font-size: 20px; margin: 0; letter-spacing: -.01em; }
.range { color: var(--muted); margin-top: 2px; }
form.picker { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
select, input, button {
  font: inherit; color: var(--text); background: var(--panel);
  border: 1px solid var(--line); border-radius: 8px; padding: 7px 10px;
}
input { width: 230px; }
input[hidden] { display: none; }
button { cursor: pointer; font-weight: 600; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:hover { filter: brightness(.97); }
main { padding: 22px 28px 40px; max-width: 1400px; margin: 0 auto; }
.summary { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 18px; }
.chip {
  padding: 4px 10px; border-radius: 999px; background: var(--neutral-soft);
  color: var(--muted); font-weight: 600; font-size: 12px;
}
.chip.ok { background: var(--good-soft); color: var(--good); }
.chip.warning { background: var(--warn-soft); color: var(--warn); }
.chip.critical, .chip.error { background: var(--bad-soft); color: var(--bad); }
.banner {
  border-radius: 10px; padding: 12px 16px; margin-bottom: 18px;
  background: var(--bad-soft); color: var(--bad); font-weight: 500;
}
.grid {
  display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
}
.card {
  background: var(--panel); border-radius: 14px; box-shadow: var(--shadow);
  padding: 16px 18px 14px;
  display: flex; flex-direction: column; gap: 6px; min-height: 200px;
}
.card.warning { box-shadow: inset 0 3px 0 var(--warn), var(--shadow); }
.card.critical, .card.error { box-shadow: inset 0 3px 0 var(--bad), var(--shadow); }
.card.error { background: linear-gradient(var(--bad-soft), var(--panel) 70%); }
.card-head { display: flex; justify-content: space-between; gap: 8px; align-items: start; }
.card-label { font-weight: 650; font-size: 15px; }
.card-name { color: var(--muted); font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.badge {
  font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em;
  padding: 3px 8px; border-radius: 999px; white-space: nowrap;
}
.badge.ok { background: var(--good-soft); color: var(--good); }
.badge.warning { background: var(--warn-soft); color: var(--warn); }
.badge.critical, .badge.error { background: var(--bad-soft); color: var(--bad); }
.kpi-value {
  font-size: 32px; font-weight: 700; letter-spacing: -.02em;
  font-variant-numeric: tabular-nums; margin: 4px 0 2px;
}
.kpi-value.empty { color: var(--muted); }
.changes { display: flex; gap: 14px; flex-wrap: wrap; }
.change { display: flex; gap: 5px; align-items: baseline; font-variant-numeric: tabular-nums; }
.change .delta { font-weight: 700; }
.change.good .delta { color: var(--good); }
.change.bad .delta { color: var(--bad); }
.change.flat .delta { color: var(--muted); }
.change .code { color: var(--muted); font-size: 12px; font-weight: 600; }
.spark { margin-top: auto; height: 52px; }
.spark svg { width: 100%; height: 52px; display: block; overflow: visible; }
.spark .line { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; vector-effect: non-scaling-stroke; }
.spark .area { fill: var(--accent); opacity: .1; }
.spark .dot { stroke: var(--accent); stroke-width: 7; stroke-linecap: round; vector-effect: non-scaling-stroke; }
.spark .none { color: var(--muted); font-size: 12px; padding-top: 18px; }
.spark .dot.partial { stroke: var(--muted); }
.alerts { margin: 2px 0 0; padding: 0; list-style: none; font-size: 12px; }
.alerts li { color: var(--warn); }
.alerts li.critical { color: var(--bad); }
.note { color: var(--muted); font-size: 12px; }
.error-text {
  color: var(--bad); font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: pre-wrap; word-break: break-word;
}
.spark .none code, .hint code { font: 11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.spark .hit { fill: transparent; cursor: crosshair; }
.spark .hit:hover { fill: var(--accent); fill-opacity: .08; }
.spark-readout { color: var(--muted); font-size: 11px; min-height: 15px; font-variant-numeric: tabular-nums; }
.target { display: flex; flex-direction: column; gap: 3px; font-size: 12px; }
.target .bar { position: relative; height: 8px; border-radius: 4px; background: var(--neutral-soft); overflow: visible; }
.target .fill { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 4px; background: var(--accent); }
.target .due { position: absolute; top: -2px; bottom: -2px; width: 2px; background: var(--muted); }
.target .mark { position: absolute; top: -4px; width: 0; height: 0;
  border-left: 5px solid transparent; border-right: 5px solid transparent; border-top: 6px solid var(--text); margin-left: -5px; }
.target .line { color: var(--muted); }
.target .estimate { font-weight: 700; color: var(--warn); text-transform: uppercase; font-size: 10px; letter-spacing: .04em; margin-left: 4px; }
.hint { color: var(--muted); font-size: 12px; }
.period-error { flex-basis: 100%; color: var(--bad); font-size: 12px; font-weight: 500; }
input[aria-invalid="true"] { border-color: var(--bad); }
@media (max-width: 640px) {
  /* A phone: a small header, and the KPIs in alert first. */
  header { padding: 8px 12px; gap: 6px; }
  h1 { font-size: 16px; }
  .range { font-size: 12px; margin-top: 0; }
  header > div:first-child { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
  form.picker { gap: 6px; width: 100%; }
  form.picker label, #refresh .label { display: none; }
  select, input, button { padding: 5px 8px; }
  form.picker select, form.picker input { flex: 1 1 30%; min-width: 0; width: auto; }
  main { padding: 12px 12px 28px; }
  .summary { margin-bottom: 10px; }
  .grid { gap: 10px; grid-template-columns: 1fr; }
  .card { min-height: 0; }
  .card.critical, .card.error { order: -2; }
  .card.warning { order: -1; }
  .kpi-value { font-size: 26px; }
}
.skeleton { background: var(--neutral-soft); border-radius: 6px; height: 14px; }
.skeleton.big { height: 34px; width: 60%; margin: 8px 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; display: flex; gap: 16px; flex-wrap: wrap; }
footer a { color: var(--accent); }
dialog { border: 0; border-radius: 14px; padding: 22px; width: min(420px, 92vw); box-shadow: var(--shadow); background: var(--panel); color: var(--text); }
dialog::backdrop { background: rgba(15, 23, 42, .45); }
dialog h2 { margin: 0 0 6px; font-size: 17px; }
dialog p { margin: 0 0 14px; color: var(--muted); }
dialog input { width: 100%; margin-bottom: 14px; }
dialog .row { display: flex; justify-content: flex-end; gap: 8px; }
.card[data-kpi] { cursor: pointer; }
.card[data-kpi]:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
#segments-dialog { width: min(760px, 94vw); max-height: 86vh; overflow: auto; }
#segments-dialog .seg-head { justify-content: space-between; align-items: center; }
#segments-dialog h3 { margin: 16px 0 6px; font-size: 14px; }
.seg-table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
.seg-table th, .seg-table td { padding: 4px 6px; text-align: right; border-bottom: 1px solid var(--neutral-soft); }
.seg-table th:first-child, .seg-table td:first-child { text-align: left; }
.seg-table td.bar { width: 30%; }
.seg-bar { height: 8px; border-radius: 4px; background: var(--accent); opacity: .75; }
.seg-bar.neg { background: var(--bad); }
`;

const SCRIPT = String.raw`
"use strict";
(function () {
  var TOKEN_KEY = "kpi-engine-token";
  var PERIODS = [
    ["last_month", "Last month"], ["this_month", "This month"],
    ["last_quarter", "Last quarter"], ["this_quarter", "This quarter"],
    ["last_year", "Last year"], ["this_year", "This year"],
    ["last_week", "Last week"], ["this_week", "This week"],
    ["last_7_days", "Last 7 days"], ["last_30_days", "Last 30 days"],
    ["yesterday", "Yesterday"], ["today", "Today"]
  ];
  var COMPARISONS = ["DoD", "WoW", "MoM", "QoQ", "YoY"];
  var STATUS_TEXT = { ok: "OK", warning: "Warning", critical: "Critical", error: "Error" };
  var defaultPeriod = document.querySelector("meta[name=kpi-default-period]").content;
  // API paths are relative to the page, so the app also works mounted under a prefix.
  var BASE = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  var $ = function (id) { return document.getElementById(id); };
  var select = $("period-select"), custom = $("period-custom");
  var grid = $("grid"), banner = $("banner"), summary = $("summary");
  var loadSeq = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svgEl(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  // Numbers arrive as text (the cards' from /dashboard.json, the dialog's
  // from /drivers and /breakdown), written on the server by the formatter
  // the CLI and the alert messages use: the page formats none itself.

  // ---- API ----------------------------------------------------------------
  function api(path) {
    var headers = { Accept: "application/json" };
    var token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(path, { headers: headers }).then(function (res) {
      if (res.status === 401) {
        return askToken(!!token).then(function () { return api(path); });
      }
      return res.json().then(function (body) {
        if (!res.ok) {
          var err = new Error(body && body.error ? body.error : "HTTP " + res.status);
          err.status = res.status;
          err.issues = body && body.issues ? body.issues : [];
          throw err;
        }
        return body;
      }, function () { throw new Error("HTTP " + res.status + ": not JSON"); });
    });
  }
  var pendingToken = null;
  $("token-dialog").addEventListener("cancel", function (event) { event.preventDefault(); });
  function askToken(wasWrong) {
    if (pendingToken) return pendingToken;
    var dialog = $("token-dialog");
    $("token-hint").textContent = wasWrong
      ? "That token was refused. Enter the server's KPI_API_TOKEN."
      : "This server needs its API token (KPI_API_TOKEN). It is kept for this tab only.";
    pendingToken = new Promise(function (resolve) {
      $("token-form").onsubmit = function (event) {
        event.preventDefault();
        var value = $("token-input").value.trim();
        if (!value) return;
        sessionStorage.setItem(TOKEN_KEY, value);
        $("token-input").value = "";
        dialog.close();
        pendingToken = null;
        resolve();
      };
      dialog.showModal();
      $("token-input").focus();
    });
    return pendingToken;
  }

  // ---- rendering ----------------------------------------------------------
  function changeNode(code, comparison, text) {
    var node = el("span", "change");
    node.dataset.comparison = code;
    var tone = comparison.favorable === true ? "good" : comparison.favorable === false ? "bad" : "flat";
    if (comparison.change === 0) tone = "flat";
    node.classList.add(tone);
    node.appendChild(el("span", "delta", text ? text.change : "n/a"));
    // Say what is compared ("vs Jan–Mar"), not a bare "QoQ".
    node.appendChild(el("span", "code", text ? text.label : code));
    node.title = code + ": previous " + (text ? text.previous : "—");
    return node;
  }

  function pct(share) {
    return (Math.max(0, Math.min(1, share)) * 100).toFixed(1) + "%";
  }

  /** The target's progress: value so far, where pace says it should be, the projection. */
  function targetNode(t) {
    var box = el("div", "target");
    box.dataset.estimate = String(t.estimate);
    var bar = el("div", "bar");
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", t.summary);
    var fill = el("div", "fill");
    fill.style.width = pct(t.done);
    bar.appendChild(fill);
    if (t.due < 1) {
      var due = el("div", "due");
      due.style.left = pct(t.due);
      due.title = "Due by now";
      bar.appendChild(due);
    }
    if (t.mark !== null && t.due < 1) {
      var mark = el("div", "mark");
      mark.style.left = pct(t.mark);
      mark.title = "Projected: " + t.projected;
      bar.appendChild(mark);
    }
    box.appendChild(bar);
    var line = el("div", "line", t.summary.replace(" (estimate)", ""));
    if (t.estimate) line.appendChild(el("span", "estimate", "estimate"));
    box.appendChild(line);
    return box;
  }

  function card(result, display) {
    var status = result.error ? "error" : result.alertStatus || "ok";
    var node = el("article", "card " + status);
    node.dataset.kpi = result.name;
    node.dataset.status = status;
    node.tabIndex = 0;
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", (result.label || result.name) + ": breakdown and drivers");
    node.addEventListener("click", function () { openSegments(result); });
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openSegments(result);
      }
    });
    if (result.value !== null) node.dataset.value = String(result.value);
    var head = el("div", "card-head");
    var titles = el("div");
    titles.appendChild(el("div", "card-label", result.label || result.name));
    titles.appendChild(el("div", "card-name", result.name));
    head.appendChild(titles);
    head.appendChild(el("span", "badge " + status, STATUS_TEXT[status] || status));
    node.appendChild(head);
    if (result.error) {
      node.appendChild(el("div", "kpi-value empty", "—"));
      node.appendChild(el("div", "error-text", result.error));
      return node;
    }
    node.appendChild(el("div", "kpi-value" + (result.value === null ? " empty" : ""),
      display ? display.value : "—"));
    if (result.note) node.appendChild(el("div", "note", result.note));
    var changes = el("div", "changes");
    COMPARISONS.forEach(function (code) {
      var comparison = result.comparisons && result.comparisons[code];
      if (comparison) {
        changes.appendChild(changeNode(code, comparison, display && display.comparisons[code]));
      }
    });
    if (changes.childNodes.length) node.appendChild(changes);
    if (result.alertsTriggered && result.alertsTriggered.length) {
      var list = el("ul", "alerts");
      result.alertsTriggered.forEach(function (alert) {
        list.appendChild(el("li", alert.severity, "● " + (alert.message || alert.condition)));
      });
      node.appendChild(list);
    }
    if (display && display.target) node.appendChild(targetNode(display.target));
    else if (result.targetNote) node.appendChild(el("div", "note target-note", result.targetNote));
    node.appendChild(el("div", "spark"));
    node.appendChild(el("div", "spark-readout"));
    return node;
  }

  function table(head, rows) {
    var t = el("table", "seg-table");
    var tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    t.appendChild(tr);
    rows.forEach(function (cells) {
      var row = el("tr");
      cells.forEach(function (cell) {
        if (cell && cell.nodeType) {
          var td = el("td", "bar");
          td.appendChild(cell);
          row.appendChild(td);
        } else row.appendChild(el("td", null, cell));
      });
      t.appendChild(row);
    });
    return t;
  }

  function barNode(fraction) {
    var bar = el("div", "seg-bar" + (fraction < 0 ? " neg" : ""));
    bar.style.width = Math.round(Math.min(1, Math.abs(fraction)) * 100) + "%";
    return bar;
  }

  function openSegments(result) {
    var dialog = $("segments-dialog");
    var body = $("segments-body");
    body.textContent = "";
    dialog.dataset.state = "loading";
    $("segments-title").textContent = result.label || result.name;
    body.appendChild(el("div", "note", "Loading breakdown and drivers…"));
    if (!dialog.open) dialog.showModal();
    var period = encodeURIComponent(currentPeriod());
    var path = BASE + "kpis/" + encodeURIComponent(result.name);
    api(path + "/drivers?period=" + period).then(function (why) {
      body.textContent = "";
      var text = why.text;
      var drivers = el("section");
      drivers.id = "segments-drivers";
      drivers.appendChild(el("h3", null, "Why it changed (" + why.compare + ")"));
      if (why.error || why.note) {
        drivers.appendChild(el("div", "note", why.error || why.note));
      } else {
        drivers.appendChild(el("div", "note",
          text.previousValue + " → " + text.value + " (" + text.change + ")"));
        var ratio = why.method === "ratio";
        var head = ["Segment", "Contribution", "Share"];
        if (ratio) head.push("Rate", "Mix");
        head.push("");
        drivers.appendChild(table(head, why.drivers.map(function (d, i) {
          var shown = text.drivers[i];
          var cells = [shown.segment, shown.contribution, shown.contributionPct];
          if (ratio) cells.push(shown.rateEffect || "—", shown.mixEffect || "—");
          cells.push(barNode((d.contribution < 0 ? -1 : 1) * Math.abs(d.contributionPct || 0) / 100));
          return cells;
        })));
        drivers.appendChild(el("div", "note", "Unexplained: " + text.unexplained));
      }
      body.appendChild(drivers);
      if (!why.dimensions || why.dimensions.length === 0) {
        dialog.dataset.state = "ready";
        return;
      }
      return api(path + "/breakdown?period=" + period + "&by=" +
        encodeURIComponent(why.dimensions.join(","))).then(function (b) {
        var section = el("section");
        section.id = "segments-breakdown";
        (b.dimensions || []).forEach(function (d, k) {
          var shown = b.text.dimensions[k].rows;
          section.appendChild(el("h3", null, "By " + d.dimension));
          var codes = COMPARISONS.filter(function (code) {
            return d.rows.some(function (r) { return r.comparisons && r.comparisons[code]; });
          });
          section.appendChild(table(["Segment", "Value", "Share"].concat(codes, [""]), d.rows.map(function (r, i) {
            var row = shown[i];
            return [row.segment, row.value, row.share].concat(
              codes.map(function (code) { return row.comparisons[code] || "—"; }),
              [barNode(r.share || 0)]);
          })));
        });
        body.appendChild(section);
        dialog.dataset.state = "ready";
      });
    }).catch(function (error) {
      body.textContent = "";
      body.appendChild(el("div", "error-text", error.message));
      dialog.dataset.state = "error";
    });
  }

  function emptyTrend(container, kept, count) {
    var box = el("div", "none");
    if (count === 1) {
      box.textContent = "One point so far: the line starts with the next period.";
    } else if (!kept) {
      box.appendChild(document.createTextNode("No history yet: add "));
      box.appendChild(el("code", null, "audit_log:"));
      box.appendChild(document.createTextNode(" to the KPI file, or run "));
      box.appendChild(el("code", null, "deno task dashboard"));
      box.appendChild(document.createTextNode(" for a demo with history."));
    } else {
      box.appendChild(document.createTextNode("No history yet: each run adds a point ("));
      box.appendChild(el("code", null, "schedules:"));
      box.appendChild(document.createTextNode(" or "));
      box.appendChild(el("code", null, "cli.ts backfill"));
      box.appendChild(document.createTextNode(")."));
    }
    container.appendChild(box);
  }

  /** Draws the points (oldest first); hovering one shows its period and value. */
  function sparkline(container, readout, points, kept) {
    container.textContent = "";
    container.dataset.points = String(points.length);
    if (points.length < 2) {
      emptyTrend(container, kept, points.length);
      return;
    }
    var W = 240, H = 48, P = 5;
    var values = points.map(function (p) { return p.value; });
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    // Keep noise flat: the y range spans at least 10% of the largest magnitude.
    var least = Math.max(Math.abs(min), Math.abs(max)) * 0.1;
    if (max - min < least) {
      var mid = (max + min) / 2;
      min = mid - least / 2;
      max = mid + least / 2;
    }
    var span = max - min || 1;
    var step = (W - 2 * P) / (points.length - 1);
    var xy = points.map(function (p, i) {
      var x = P + step * i;
      var y = H - P - (H - 2 * P) * (p.value - min) / span;
      return [x.toFixed(1), y.toFixed(1)];
    });
    var line = xy.map(function (q) { return q.join(","); }).join(" ");
    var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img" });
    var title = svgEl("title", {});
    title.textContent = points.map(function (p) { return p.text; }).join("\n");
    svg.appendChild(title);
    var area = "M" + xy[0][0] + "," + (H - P) + " L" + line.split(" ").join(" L") + " L" + xy[xy.length - 1][0] + "," + (H - P) + " Z";
    svg.appendChild(svgEl("path", { d: area, "class": "area" }));
    svg.appendChild(svgEl("polyline", { points: line, "class": "line" }));
    var last = xy[xy.length - 1];
    // A zero-length line with a round cap stays round when the SVG stretches.
    // A bucket still running (this month so far) ends the line in grey.
    var running = points[points.length - 1].partial;
    svg.appendChild(svgEl("line", { x1: last[0], y1: last[1], x2: last[0], y2: last[1], "class": running ? "dot partial" : "dot" }));
    points.forEach(function (p, i) {
      var hit = svgEl("rect", {
        x: Math.max(0, P + step * (i - 0.5)).toFixed(1), y: 0,
        width: (i === 0 || i === points.length - 1 ? step / 2 + P : step).toFixed(1), height: H,
        "class": "hit", "data-start": p.periodStart
      });
      var tip = svgEl("title", {});
      tip.textContent = p.text;
      hit.appendChild(tip);
      hit.addEventListener("mouseenter", function () { readout.textContent = p.text; });
      hit.addEventListener("mouseleave", function () { readout.textContent = ""; });
      svg.appendChild(hit);
    });
    container.appendChild(svg);
  }

  function renderSummary(results) {
    summary.textContent = "";
    var counts = { ok: 0, warning: 0, critical: 0, error: 0 };
    results.forEach(function (r) {
      var s = r.error ? "error" : r.alertStatus;
      counts[s] = (counts[s] || 0) + 1;
    });
    summary.appendChild(el("span", "chip", results.length + (results.length === 1 ? " KPI" : " KPIs")));
    ["ok", "warning", "critical", "error"].forEach(function (s) {
      if (counts[s]) summary.appendChild(el("span", "chip " + s, counts[s] + " " + STATUS_TEXT[s].toLowerCase()));
    });
  }

  function skeletons() {
    grid.textContent = "";
    for (var i = 0; i < 4; i++) {
      var node = el("article", "card");
      node.appendChild(el("div", "skeleton"));
      node.appendChild(el("div", "skeleton big"));
      node.appendChild(el("div", "skeleton"));
      grid.appendChild(node);
    }
  }

  function currentPeriod() {
    return new URLSearchParams(location.search).get("period") || defaultPeriod;
  }

  function syncPicker(period) {
    var known = PERIODS.some(function (p) { return p[0] === period; });
    select.value = known ? period : "custom";
    custom.hidden = known;
    if (!known) custom.value = period;
  }

  var lastGood = null;

  function showPeriodError(message) {
    var box = $("period-error");
    box.textContent = message;
    box.hidden = !message;
    custom.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function render(data) {
    $("range").textContent = data.period.label + " · " + data.period.text;
    $("range").dataset.start = data.period.start;
    $("range").dataset.end = data.period.end;
    grid.textContent = "";
    renderSummary(data.results);
    var hint = $("hint");
    hint.textContent = "";
    if (!data.trend.kept) {
      hint.appendChild(document.createTextNode("No history yet: trends are computed from the data. Add "));
      hint.appendChild(el("code", null, "audit_log:"));
      hint.appendChild(document.createTextNode(" to keep them, or run "));
      hint.appendChild(el("code", null, "deno task dashboard"));
      hint.appendChild(document.createTextNode(" for a demo with history."));
    }
    hint.hidden = data.trend.kept;
    data.results.forEach(function (result) {
      var node = card(result, data.display[result.name]);
      grid.appendChild(node);
      var spark = node.querySelector(".spark");
      if (!spark) return;
      spark.dataset.grain = data.trend.grain;
      spark.dataset.source = data.trend.source[result.name] || "";
      sparkline(spark, node.querySelector(".spark-readout"),
        data.trend.points[result.name] || [], data.trend.kept);
    });
  }

  // refused: a period the server refused on the first view ({period, message}),
  // still shown under the picker while the default period's view loads.
  function load(refresh, refused) {
    var seq = ++loadSeq;
    var period = currentPeriod();
    syncPicker(period);
    banner.hidden = true;
    document.body.dataset.state = "loading";
    if (!grid.querySelector(".card[data-kpi]")) skeletons();
    var query = "?period=" + encodeURIComponent(period) + (refresh ? "&refresh=true" : "");
    // One request for the whole page: results, their numbers as text, trends.
    return api(BASE + "dashboard.json" + query).then(function (data) {
      if (seq !== loadSeq) return;
      lastGood = period;
      showPeriodError(refused ? refused.message : "");
      if (refused) {
        select.value = "custom";
        custom.hidden = false;
        custom.value = refused.period;
      }
      render(data);
      $("updated").textContent = "Updated " + new Date().toLocaleTimeString();
      $("json-link").href = BASE + "dashboard.json" + query.replace("&refresh=true", "");
      document.body.dataset.state = refused ? "invalid" : "ready";
    }).catch(function (error) {
      if (seq !== loadSeq) return;
      var badPeriod = error.status === 400 && (error.issues || []).some(function (issue) {
        return issue.path && issue.path[0] === "period";
      });
      if (badPeriod) {
        // Say what is wrong beside the picker; keep the last good view.
        showPeriodError(error.message);
        select.value = "custom";
        custom.hidden = false;
        custom.value = period;
        if (lastGood !== null) {
          var url = new URL(location.href);
          url.searchParams.set("period", lastGood);
          history.replaceState(null, "", url);
          document.body.dataset.state = "invalid";
          return;
        }
        if (period !== defaultPeriod) {
          // No view yet (a link with a bad period): show the default one.
          var fallback = new URL(location.href);
          fallback.searchParams.set("period", defaultPeriod);
          history.replaceState(null, "", fallback);
          load(false, { period: period, message: error.message });
          return;
        }
      } else {
        banner.textContent = error.message;
        banner.hidden = false;
      }
      if (!grid.querySelector(".card[data-kpi]")) grid.textContent = "";
      document.body.dataset.state = "error";
    });
  }

  function go(period) {
    var url = new URL(location.href);
    url.searchParams.set("period", period);
    history.pushState(null, "", url);
    load(false);
  }

  PERIODS.forEach(function (p) {
    var option = el("option", null, p[1]);
    option.value = p[0];
    select.appendChild(option);
  });
  var customOption = el("option", null, "Custom…");
  customOption.value = "custom";
  select.appendChild(customOption);

  select.addEventListener("change", function () {
    if (select.value === "custom") {
      custom.hidden = false;
      custom.focus();
      return;
    }
    custom.hidden = true;
    go(select.value);
  });
  $("picker").addEventListener("submit", function (event) {
    event.preventDefault();
    var value = select.value === "custom" ? custom.value.trim() : select.value;
    if (value) go(value);
  });
  $("refresh").addEventListener("click", function () { load(true); });
  $("docs-link").href = BASE + "docs";
  window.addEventListener("popstate", function () { load(false); });
  load(false);
})();
`;

/**
 * Renders the dashboard page: a card per KPI with its value and unit, its
 * comparisons labelled by what they compare with arrows colored by
 * polarity, its alert status, its target's progress and projection, and a
 * sparkline of the periods of the viewed grain ending with the viewed one
 * (each point's period and value on hover), plus a period picker. The page
 * asks `/dashboard.json` once per view; numbers arrive as text. Clicking a card (or Enter
 * on it) opens its drivers and, for a KPI with dimensions, its breakdown. The page asks for the API
 * token when the server answers 401 and keeps it in `sessionStorage`.
 *
 * @param options The CSP nonce, the title and the default period.
 * @returns The HTML document.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const html = dashboardHtml({ nonce: "abc", title: "Shop KPIs" });
 * assert.match(html, /<title>Shop KPIs<\/title>/);
 * assert.match(html, /<script nonce="abc">/);
 * ```
 */
export function dashboardHtml(options: DashboardHtmlOptions): string {
  const nonce = escapeHtml(options.nonce);
  const title = escapeHtml(options.title ?? "KPI dashboard");
  const head = htmlHead({
    title: options.title ?? "KPI dashboard",
    nonce: options.nonce,
    style: STYLE,
    meta: { "kpi-default-period": options.defaultPeriod ?? "last_month" },
  });
  return `${head}<body data-state="loading">
<header>
  <div>
    <h1>${title}</h1>
    <div class="range" id="range">&nbsp;</div>
  </div>
  <form class="picker" id="picker">
    <label for="period-select" class="note">Period</label>
    <select id="period-select" name="period"></select>
    <input id="period-custom" name="custom" hidden placeholder="2024-11, 2024-Q3, 2024-11-01..2024-11-15" autocomplete="off">
    <button type="submit" class="primary" id="apply">Apply</button>
    <button type="button" id="refresh" title="Recompute, bypassing the cache" aria-label="Refresh">↻<span class="label"> Refresh</span></button>
    <div class="period-error" id="period-error" role="alert" hidden></div>
  </form>
</header>
<main>
  <div class="banner" id="banner" role="alert" hidden></div>
  <div class="summary" id="summary"></div>
  <p class="hint" id="hint" hidden></p>
  <section class="grid" id="grid" aria-live="polite"></section>
  <footer>
    <span id="updated"></span>
    <a id="json-link" href="kpis">JSON</a>
    <a id="docs-link" href="docs">API docs</a>
  </footer>
</main>
<dialog id="token-dialog">
  <form id="token-form" method="dialog">
    <h2>API token</h2>
    <p id="token-hint"></p>
    <input id="token-input" type="password" autocomplete="off" placeholder="Token" aria-label="API token">
    <div class="row"><button type="submit" class="primary">Continue</button></div>
  </form>
</dialog>
<dialog id="segments-dialog" aria-labelledby="segments-title">
  <form method="dialog">
    <div class="row seg-head"><h2 id="segments-title"></h2><button type="submit" id="segments-close">Close</button></div>
    <div id="segments-body"></div>
  </form>
</dialog>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
