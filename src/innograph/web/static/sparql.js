// The query page: run the query with fetch (JSON for tables, Turtle text for graphs), show the
// answer as a table, offer every download format, keep a permalink. No external scripts.
"use strict";
(function () {
  const form = document.getElementById("query-form");
  const textarea = document.getElementById("query");
  const examples = document.getElementById("examples");
  const results = document.getElementById("results");
  const banner = document.getElementById("banner");
  const errorBox = document.getElementById("error");
  const statusLine = document.getElementById("status");
  const permalink = document.getElementById("permalink");
  const downloads = document.getElementById("downloads");
  const downloadLinks = document.getElementById("download-links");
  const endpoint = form.getAttribute("action");
  const TABLE_FORMATS = ["json", "xml", "csv", "tsv"];
  const GRAPH_FORMATS = ["ttl", "nt", "nq", "trig", "jsonld", "rdf"];

  function queryUrl(query, format) {
    const params = new URLSearchParams({ query: query });
    if (format) params.set("format", format);
    return endpoint + "?" + params.toString();
  }

  function isGraphQuery(query) {
    const body = query.replace(/#[^\n]*/g, "").replace(/(PREFIX|BASE)\s+[^\n]*/gi, "");
    return /^\s*(CONSTRUCT|DESCRIBE)\b/i.test(body);
  }

  function showDownloads(query) {
    downloadLinks.textContent = "";
    for (const format of isGraphQuery(query) ? GRAPH_FORMATS : TABLE_FORMATS) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = queryUrl(query, format);
      link.textContent = format.toUpperCase();
      link.setAttribute("download", "answer." + format);
      item.appendChild(link);
      downloadLinks.appendChild(item);
    }
    downloads.hidden = false;
  }

  function cell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const safe = /^https?:\/\//i.test(term.value);
      const node = document.createElement(safe ? "a" : "span");
      if (safe) node.href = term.value;
      node.textContent = term.value;
      td.appendChild(node);
    } else {
      td.textContent = term.type === "bnode" ? "_:" + term.value : term.value;
      if (term["xml:lang"]) td.title = "@" + term["xml:lang"];
    }
    return td;
  }

  function showTable(data) {
    results.textContent = "";
    if (typeof data.boolean === "boolean") {
      const p = document.createElement("p");
      p.className = "boolean";
      p.textContent = "Answer: " + data.boolean;
      results.appendChild(p);
      return 1;
    }
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const name of data.head.vars) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const binding of data.results.bindings) {
      const row = body.insertRow();
      for (const name of data.head.vars) row.appendChild(cell(binding[name]));
    }
    results.appendChild(table);
    return data.results.bindings.length;
  }

  async function run(query, push) {
    errorBox.hidden = true;
    banner.hidden = true;
    statusLine.textContent = "Running…";
    permalink.href = "?" + new URLSearchParams({ query: query }).toString();
    if (push) history.pushState({ query: query }, "", permalink.href);
    const graph = isGraphQuery(query);
    const started = performance.now();
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/sparql-query",
          Accept: graph ? "text/turtle" : "application/sparql-results+json",
        },
        body: query,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
        errorBox.textContent = message;
        errorBox.hidden = false;
        statusLine.textContent = "Failed after " + seconds + " s";
        results.textContent = "";
        return;
      }
      let count;
      if (graph) {
        const pre = document.createElement("pre");
        pre.textContent = await response.text();
        results.textContent = "";
        results.appendChild(pre);
        count = response.headers.get("X-Result-Rows") || "?";
      } else {
        count = showTable(await response.json());
      }
      if (response.headers.get("X-Result-Truncated") === "true") {
        banner.textContent = "The answer was cut at " + response.headers.get("X-Result-Row-Limit") +
          " rows (the server's limit); add LIMIT/OFFSET or narrow the query to see the rest.";
        banner.hidden = false;
      }
      statusLine.textContent = count + " result(s) in " + seconds + " s";
      showDownloads(query);
    } catch (error) {
      errorBox.textContent = "The endpoint could not be reached: " + error;
      errorBox.hidden = false;
      statusLine.textContent = "";
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run(textarea.value, true);
  });
  examples.addEventListener("change", function () {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query) textarea.value = option.dataset.query;
  });
  window.addEventListener("popstate", function (event) {
    if (event.state && event.state.query) { textarea.value = event.state.query; run(event.state.query, false); }
  });
  const initial = new URLSearchParams(window.location.search).get("query");
  if (initial) { textarea.value = initial; run(initial, false); }
})();
