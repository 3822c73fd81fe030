// The query page: run the query with fetch (JSON for tables, Turtle text for graphs), show the
// answer as a table, offer every download format, keep a permalink. No external scripts.
"use strict";
(function () {
  const form = document.getElementById("query-form");
  const textarea = document.getElementById("query");
  const examples = document.getElementById("examples");
  const runButton = document.getElementById("run");
  const results = document.getElementById("results");
  const banner = document.getElementById("banner");
  const errorBox = document.getElementById("error");
  const statusLine = document.getElementById("status");
  const permalink = document.getElementById("permalink");
  const downloads = document.getElementById("downloads");
  const downloadLinks = document.getElementById("download-links");
  const endpoint = form.getAttribute("action");
  // format= names the server knows, with the label shown on the link.
  const TABLE_FORMATS = [
    ["json", "SPARQL JSON"], ["xml", "SPARQL XML"], ["csv", "CSV"], ["tsv", "TSV"],
  ];
  const BOOLEAN_FORMATS = TABLE_FORMATS.slice(0, 2); // CSV and TSV have no ASK form
  const GRAPH_FORMATS = [
    ["ttl", "Turtle"], ["nt", "N-Triples"], ["nq", "N-Quads"], ["trig", "TriG"],
    ["jsonld", "JSON-LD"], ["rdf", "RDF/XML"],
  ];
  // The server picks by the query's form: SELECT/ASK answer JSON, CONSTRUCT/DESCRIBE Turtle.
  const ACCEPT = "application/sparql-results+json, text/turtle;q=0.9";
  let running = null; // the AbortController of the query in flight

  function queryUrl(query, format) {
    const params = new URLSearchParams({ query: query });
    if (format) params.set("format", format);
    return endpoint + "?" + params.toString();
  }

  // The server takes request lines up to about 8 KB; a longer link would not open.
  const LINK_LIMIT = 8000;

  function setPermalink(query) {
    permalink.href = queryUrl(query);
    const tooLong = permalink.href.length > LINK_LIMIT;
    permalink.classList.toggle("too-long", tooLong);
    permalink.title = tooLong
      ? "This query is too long to open from a link; share the query text instead"
      : "A link that opens this page and runs the query";
  }

  function updatePermalink() {
    setPermalink(textarea.value);
  }

  // Size the editor to its text (6 to 20 lines); the reader can still drag it.
  function fitEditor() {
    const lines = textarea.value.split("\n").length + 1;
    textarea.rows = Math.min(Math.max(lines, 6), 20);
  }

  function plural(count, one, many) {
    return count.toLocaleString("en") + " " + (count === 1 ? one : many);
  }

  function showDownloads(query, formats) {
    downloadLinks.textContent = "";
    for (const [format, label] of formats) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = queryUrl(query, format);
      link.textContent = label;
      link.dataset.format = format;
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
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) td.title = "@" + term["xml:lang"];
      else if (term.datatype) td.title = term.datatype;
      if (/#(integer|decimal|double|float|int|long)$/.test(term.datatype || "")) {
        td.className = "number";
      }
    }
    return td;
  }

  function message(text, className) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  // Renders SPARQL JSON results; returns the status text.
  function showTable(data) {
    results.textContent = "";
    if (typeof data.boolean === "boolean") {
      results.appendChild(message("Answer: " + data.boolean, "boolean"));
      return "";
    }
    const vars = data.head.vars || [];
    const bindings = data.results.bindings;
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const name of vars) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const binding of bindings) {
      const row = body.insertRow();
      for (const name of vars) row.appendChild(cell(binding[name]));
    }
    results.appendChild(table);
    if (bindings.length === 0) results.appendChild(message("No results.", "empty"));
    return plural(bindings.length, "row", "rows");
  }

  function showGraph(text, count) {
    results.textContent = "";
    const pre = document.createElement("pre");
    pre.className = "graph";
    pre.textContent = text;
    results.appendChild(pre);
    if (!text.trim()) results.appendChild(message("No triples.", "empty"));
    return count === null ? "" : plural(Number(count), "triple", "triples");
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
    results.textContent = "";
    downloads.hidden = true;
  }

  async function errorMessage(response) {
    const fallback = response.status + " " + response.statusText;
    const text = await response.text();
    try {
      return JSON.parse(text).error || fallback;
    } catch (e) {
      return text.trim() || fallback;
    }
  }

  async function run(query, push) {
    if (running) running.abort();
    const controller = new AbortController();
    running = controller;
    errorBox.hidden = true;
    banner.hidden = true;
    downloads.hidden = true;
    runButton.disabled = true;
    results.setAttribute("aria-busy", "true");
    statusLine.textContent = "Running…";
    setPermalink(query);
    if (push) history.pushState({ query: query }, "", permalink.href);
    const started = performance.now();
    const elapsed = () => ((performance.now() - started) / 1000).toFixed(2) + " s";
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/sparql-query", Accept: ACCEPT },
        body: query,
        signal: controller.signal,
      });
      if (!response.ok) {
        showError(await errorMessage(response));
        statusLine.textContent = "Failed after " + elapsed();
        return;
      }
      const type = response.headers.get("Content-Type") || "";
      const graph = !type.startsWith("application/sparql-results+json");
      let summary, formats;
      if (graph) {
        summary = showGraph(await response.text(), response.headers.get("X-Result-Rows"));
        formats = GRAPH_FORMATS;
      } else {
        const data = await response.json();
        summary = showTable(data);
        formats = typeof data.boolean === "boolean" ? BOOLEAN_FORMATS : TABLE_FORMATS;
      }
      const cut = response.headers.get("X-Result-Truncated") === "true";
      if (cut) {
        const limit = Number(response.headers.get("X-Result-Row-Limit"));
        const rows = Number(response.headers.get("X-Result-Rows"));
        const megabytes = (Number(response.headers.get("X-Result-Byte-Limit")) / 1048576)
          .toLocaleString("en", { maximumSignificantDigits: 3 });
        const unit = graph ? "triples" : "rows";
        banner.textContent = rows < limit // cut by size before the row limit
          ? "This answer was cut at " + rows.toLocaleString("en") + " " + unit + ", at the " +
            "server's limit of " + megabytes + " MB per answer. Add LIMIT and OFFSET, or narrow " +
            "the query, to see the rest; each download is cut at the same size, so a format " +
            "may hold more or fewer " + unit + "."
          : "This answer was cut at " + limit.toLocaleString("en") + " " + unit + ", the " +
            "server's limit. Add LIMIT and OFFSET, or narrow the query, to see the rest; the " +
            "downloads are cut the same way.";
        banner.hidden = false;
      }
      statusLine.textContent = (summary ? summary + (cut ? " (cut)" : "") + " in " : "Done in ") +
        elapsed();
      showDownloads(query, formats);
    } catch (error) {
      if (error.name === "AbortError") return;
      showError((error instanceof TypeError // what fetch throws when there is no answer
        ? "The endpoint could not be reached: "
        : "The answer could not be read: ") + error.message);
      statusLine.textContent = "";
    } finally {
      if (running === controller) {
        running = null;
        runButton.disabled = false;
        results.removeAttribute("aria-busy");
      }
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run(textarea.value, true);
  });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  textarea.addEventListener("input", function () {
    fitEditor();
    updatePermalink();
    const option = examples.selectedOptions[0];
    if (option && option.value && option.dataset.query !== textarea.value) examples.value = "";
  });
  examples.addEventListener("change", function () {
    const option = examples.selectedOptions[0];
    if (option && option.dataset.query) {
      textarea.value = option.dataset.query;
      fitEditor();
      updatePermalink();
      textarea.setSelectionRange(0, 0);
      textarea.focus();
      textarea.scrollTop = 0;
    }
  });
  window.addEventListener("popstate", function (event) {
    const query = (event.state && event.state.query) ||
      new URLSearchParams(window.location.search).get("query");
    if (query) {
      textarea.value = query;
      fitEditor();
      run(query, false);
    }
  });
  const initial = new URLSearchParams(window.location.search).get("query");
  if (initial) {
    textarea.value = initial;
    fitEditor();
    history.replaceState({ query: initial }, "", window.location.href);
    run(initial, false);
  }
  fitEditor();
  updatePermalink();
})();
