/**
 * The API reference page served at `/docs`: a self-contained HTML document
 * that fetches `/openapi.json` from the same server and renders its routes
 * and schemas, with no asset from the internet.
 *
 * @module
 */

import { escapeHtml, htmlHead } from "./_html.ts";

/** Options of {@linkcode docsHtml}. */
export interface DocsHtmlOptions {
  /** The CSP nonce that the inline `<style>` and `<script>` carry. */
  nonce: string;
  /** Name of the dashboard, shown in the heading. @default "KPI dashboard" */
  title?: string;
}

const STYLE = String.raw`
:root { --bg:#f8fafc; --panel:#fff; --text:#0f172a; --muted:#64748b; --line:#e2e8f0; --accent:#4f46e5; color-scheme: light dark; }
@media (prefers-color-scheme: dark) { :root { --bg:#0b1120; --panel:#131c2e; --text:#e2e8f0; --muted:#94a3b8; --line:#1e293b; --accent:#818cf8; } }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 24px 60px; }
h1 { margin: 0 0 4px; font-size: 24px; } h2 { margin: 32px 0 12px; font-size: 18px; }
.muted { color: var(--muted); }
code, .mono { font-family: ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size: 13px; }
.op { background:var(--panel); border:1px solid var(--line); border-radius:12px; margin:12px 0; padding:14px 16px; }
.op-head { display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
.method { font-weight:700; font-size:12px; padding:2px 8px; border-radius:6px; background:#dcfce7; color:#166534; }
.path { font-weight:600; }
table { width:100%; border-collapse:collapse; margin-top:10px; }
th, td { text-align:left; padding:6px 8px; border-top:1px solid var(--line); vertical-align:top; }
th { font-size:12px; color:var(--muted); font-weight:600; }
td { overflow-wrap:break-word; }
@media (max-width: 640px) {
  td { overflow-wrap:anywhere; }
  main { padding: 20px 14px 48px; }
  tr:first-child { display:none; }
  table, tbody, tr, td { display:block; width:100%; }
  tr { border-top:1px solid var(--line); padding:6px 0; }
  td { border-top:none; padding:2px 4px; }
  td[data-label]::before { content: attr(data-label) ": "; color:var(--muted); font:600 12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
  td:first-child::before { content: none; }
}
a { color: var(--accent); }
.lock { font-size:12px; color:var(--muted); }
.banner { background:#fee2e2; color:#991b1b; padding:10px 14px; border-radius:10px; }
form { display:flex; gap:8px; margin-top:10px; }
input, button { font:inherit; padding:6px 10px; border-radius:8px; border:1px solid var(--line); }
`;

const SCRIPT = String.raw`
"use strict";
(function () {
  var TOKEN_KEY = "kpi-engine-token";
  // Relative to the page, so the app also works mounted under a prefix.
  var BASE = location.pathname.replace(/docs\/?$/, "");
  var root = document.getElementById("content");
  document.getElementById("home-link").href = BASE;
  document.getElementById("spec-link").href = BASE + "openapi.json";
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  // Text with backquoted code spans, as OpenAPI descriptions write them.
  function rich(tag, className, text) {
    var node = el(tag, className);
    String(text || "").split("\u0060").forEach(function (part, i) {
      node.appendChild(i % 2 ? el("code", null, part) : document.createTextNode(part));
    });
    return node;
  }
  function typeOf(schema, doc) {
    if (!schema) return "";
    if (schema.$ref) {
      var name = schema.$ref.split("/").pop();
      return name;
    }
    if (schema.enum) return schema.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    if (schema.type === "array") return typeOf(schema.items, doc) + "[]";
    if (Array.isArray(schema.type)) return schema.type.join(" | ");
    if (schema.type === "object" && schema.additionalProperties) return "map of " + typeOf(schema.additionalProperties, doc);
    return schema.type || "any";
  }
  function resolve(item, doc) {
    if (item && item.$ref) {
      var parts = item.$ref.replace(/^#\//, "").split("/");
      return parts.reduce(function (o, k) { return o && o[k]; }, doc);
    }
    return item;
  }
  function table(headers, rows) {
    var t = el("table");
    var tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    t.appendChild(tr);
    rows.forEach(function (row) {
      var r = el("tr");
      row.forEach(function (cell, i) {
        var td = rich("td", i === 0 ? "mono" : null, cell);
        // On a phone each row stacks its cells, each led by its column's name.
        td.setAttribute("data-label", headers[i]);
        r.appendChild(td);
      });
      t.appendChild(r);
    });
    return t;
  }
  function render(doc) {
    root.textContent = "";
    root.appendChild(rich("p", "muted", doc.info.description));
    root.appendChild(el("p", "muted", "OpenAPI " + doc.openapi + " · version " + doc.info.version));
    root.appendChild(el("h2", null, "Routes"));
    Object.keys(doc.paths).forEach(function (path) {
      var item = doc.paths[path];
      Object.keys(item).forEach(function (method) {
        var op = item[method];
        var box = el("section", "op");
        box.id = op.operationId || path;
        var head = el("div", "op-head");
        head.appendChild(el("span", "method", method.toUpperCase()));
        head.appendChild(el("span", "path mono", path));
        head.appendChild(el("span", null, op.summary || ""));
        var secured = (op.security || doc.security || []).length > 0;
        if (secured) head.appendChild(el("span", "lock", "· bearer token"));
        box.appendChild(head);
        if (op.description) box.appendChild(rich("p", "muted", op.description));
        var params = (op.parameters || []).map(function (p) { return resolve(p, doc); });
        if (params.length) {
          box.appendChild(table(["Parameter", "In", "Type", "Default", "Description"], params.map(function (p) {
            var s = p.schema || {};
            var type = typeOf(s, doc);
            if (s.minimum !== undefined || s.maximum !== undefined) type += " (" + (s.minimum !== undefined ? s.minimum : "") + "–" + (s.maximum !== undefined ? s.maximum : "") + ")";
            return [p.name, p.in, type, s.default === undefined ? "" : String(s.default), p.description || ""];
          })));
        }
        var responses = op.responses || {};
        box.appendChild(table(["Status", "Body", "Description"], Object.keys(responses).map(function (code) {
          var r = responses[code];
          var content = r.content || {};
          var kind = Object.keys(content)[0];
          var body = kind ? (kind === "application/json" ? typeOf(content[kind].schema, doc) : kind) : "";
          return [code, body, r.description || ""];
        })));
        root.appendChild(box);
      });
    });
    root.appendChild(el("h2", null, "Schemas"));
    var schemas = (doc.components && doc.components.schemas) || {};
    Object.keys(schemas).forEach(function (name) {
      var schema = schemas[name];
      var box = el("section", "op");
      box.id = "schema-" + name;
      var head = el("div", "op-head");
      head.appendChild(el("span", "path mono", name));
      box.appendChild(head);
      var required = schema.required || [];
      var props = schema.properties || {};
      box.appendChild(table(["Field", "Type", "Required", "Description"], Object.keys(props).map(function (field) {
        var p = props[field];
        return [field, typeOf(p, doc), required.indexOf(field) >= 0 ? "yes" : "", p.description || ""];
      })));
      root.appendChild(box);
    });
  }
  function askToken(message) {
    root.textContent = "";
    root.appendChild(el("p", "banner", message));
    var form = el("form");
    var input = el("input");
    input.type = "password";
    input.placeholder = "API token";
    input.setAttribute("aria-label", "API token");
    var button = el("button", null, "Show");
    button.type = "submit";
    form.appendChild(input);
    form.appendChild(button);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.value.trim()) return;
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      load();
    });
    root.appendChild(form);
    input.focus();
  }
  function load() {
    var token = sessionStorage.getItem(TOKEN_KEY);
    var headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    fetch(BASE + "openapi.json", { headers: headers }).then(function (res) {
      if (res.status === 401) {
        askToken(token ? "That token was refused." : "This server needs its API token (KPI_API_TOKEN).");
        return;
      }
      return res.json().then(render);
    }).catch(function (error) {
      root.textContent = "";
      root.appendChild(el("p", "banner", "Could not load /openapi.json: " + error.message));
    });
  }
  load();
})();
`;

/**
 * Renders the API reference page, which loads `/openapi.json` and shows
 * every route (parameters, responses) and schema. It asks for the API token
 * when the server answers 401 and keeps it in `sessionStorage`.
 *
 * @param options The CSP nonce and the title.
 * @returns The HTML document.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const html = docsHtml({ nonce: "abc" });
 * assert.match(html, /openapi\.json/);
 * assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/);
 * ```
 */
export function docsHtml(options: DocsHtmlOptions): string {
  const nonce = escapeHtml(options.nonce);
  const title = escapeHtml(options.title ?? "KPI dashboard");
  const head = htmlHead({
    title: `API reference · ${options.title ?? "KPI dashboard"}`,
    nonce: options.nonce,
    style: STYLE,
  });
  return `${head}<body>
<main>
  <h1>API reference</h1>
  <p class="muted">${title} · <a id="home-link" href=".">dashboard</a> · <a id="spec-link" href="openapi.json">openapi.json</a></p>
  <div id="content"><p class="muted">Loading…</p></div>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
