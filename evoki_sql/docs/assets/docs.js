/* evoki_sql docs: list filters, DAG highlighting and the on-demand timeline charts.
 * No libraries and no network: data comes from <script type="application/json"> blocks,
 * charts are SVG built here, and every value reaches the page through textContent or
 * setAttribute (never innerHTML), so data cannot inject markup. */
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function sv(tag, attrs, text) {
    var node = document.createElementNS(SVGNS, tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (key) {
      if (attrs[key] !== undefined && attrs[key] !== null) node.setAttribute(key, String(attrs[key]));
    });
  }

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return "–";
    if (typeof value !== "number") return String(value);
    return Number.isInteger(value) ? String(value) : value.toFixed(digits === undefined ? 4 : digits);
  }

  /* -- filters: <input data-filter="css selector of the items"> -------------------------- */
  function initFilters() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (input) {
      var items = document.querySelectorAll(input.getAttribute("data-filter"));
      input.addEventListener("input", function () {
        var query = input.value.trim().toLowerCase();
        Array.prototype.forEach.call(items, function (item) {
          var hay = (item.getAttribute("data-search") || item.textContent).toLowerCase();
          item.hidden = query !== "" && hay.indexOf(query) < 0;
        });
      });
    });
  }

  /* -- DAG: hovering a node highlights its edges -------------------------------------------- */
  function initDag() {
    Array.prototype.forEach.call(document.querySelectorAll("svg.dag"), function (svgNode) {
      var edges = svgNode.querySelectorAll(".dag-edge");
      Array.prototype.forEach.call(svgNode.querySelectorAll(".dag-node"), function (node) {
        var i = node.getAttribute("data-i");
        node.addEventListener("mouseenter", function () {
          svgNode.classList.add("dim");
          Array.prototype.forEach.call(edges, function (edge) {
            if (edge.getAttribute("data-from") === i || edge.getAttribute("data-to") === i) {
              edge.classList.add("hl");
            }
          });
        });
        node.addEventListener("mouseleave", function () {
          svgNode.classList.remove("dim");
          Array.prototype.forEach.call(edges, function (edge) {
            edge.classList.remove("hl");
          });
        });
      });
    });
  }

  /* -- timeline: searchable paged list of groups, one chart on demand ----------------------- */
  function Timeline(root, cfg) {
    this.root = root;
    this.cfg = cfg;
    this.rows = cfg.rows;
    this.index = {};
    for (var i = 0; i < cfg.rows.length; i++) this.index[cfg.rows[i][0]] = i;
    this.query = "";
    this.page = 0;
    this.sortCol = -1;
    this.sortDesc = false;
    this.openId = null;
    this.build();
    this.renderList();
  }

  Timeline.prototype.build = function () {
    var self = this;
    var bar = el("div", { class: "filter-bar" });
    this.search = el("input", {
      type: "search",
      class: "filter",
      placeholder: "Search " + this.cfg.param + "s",
      "aria-label": "Search " + this.cfg.param + "s",
    });
    this.search.addEventListener("input", function () {
      self.query = self.search.value.trim().toLowerCase();
      self.page = 0;
      self.renderList();
    });
    this.countNode = el("span", { class: "muted" });
    bar.appendChild(this.search);
    bar.appendChild(this.countNode);
    this.root.appendChild(bar);

    var wrap = el("div", { class: "table-wrap" });
    this.table = el("table", { class: "tl-list" });
    var head = el("tr");
    this.cfg.columns.forEach(function (column, c) {
      var th = el("th", { class: column.type === "num" ? "num sortable" : "sortable" }, column.label);
      th.addEventListener("click", function () {
        self.sortDesc = self.sortCol === c ? !self.sortDesc : column.type === "num";
        self.sortCol = c;
        self.page = 0;
        self.renderList();
      });
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    this.table.appendChild(thead);
    this.tbody = el("tbody");
    this.table.appendChild(this.tbody);
    wrap.appendChild(this.table);
    this.root.appendChild(wrap);

    this.pager = el("div", { class: "pager" });
    this.prev = el("button", { type: "button" }, "‹ previous");
    this.next = el("button", { type: "button" }, "next ›");
    this.pageNode = el("span", { class: "muted" });
    this.prev.addEventListener("click", function () {
      self.page -= 1;
      self.renderList();
    });
    this.next.addEventListener("click", function () {
      self.page += 1;
      self.renderList();
    });
    this.pager.appendChild(this.prev);
    this.pager.appendChild(this.pageNode);
    this.pager.appendChild(this.next);
    this.root.appendChild(this.pager);

    this.panel = el("div", { class: "tl-panel", id: "tl-panel" });
    this.panel.appendChild(el("p", { class: "muted" }, "Open a " + this.cfg.param + " to see its timeline."));
    this.root.appendChild(this.panel);
  };

  Timeline.prototype.visibleRows = function () {
    var query = this.query;
    var out = [];
    for (var i = 0; i < this.rows.length; i++) {
      var row = this.rows[i];
      if (query && (String(row[0]) + " " + String(row[1])).toLowerCase().indexOf(query) < 0) continue;
      out.push(i);
    }
    if (this.sortCol >= 0) {
      var c = this.sortCol;
      var desc = this.sortDesc ? -1 : 1;
      var rows = this.rows;
      out.sort(function (a, b) {
        var x = rows[a][c];
        var y = rows[b][c];
        if (x === y) return a - b;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * desc;
      });
    }
    return out;
  };

  Timeline.prototype.renderList = function () {
    var self = this;
    var visible = this.visibleRows();
    var size = this.cfg.page_size || 20;
    var pages = Math.max(1, Math.ceil(visible.length / size));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    this.tbody.textContent = "";
    visible.slice(this.page * size, (this.page + 1) * size).forEach(function (i) {
      var row = self.rows[i];
      var tr = el("tr", { "data-row": i });
      if (row[0] === self.openId) tr.classList.add("open");
      self.cfg.columns.forEach(function (column, c) {
        var td = el("td", { class: column.type === "num" ? "num" : null });
        if (column.type === "id") {
          td.appendChild(el("a", { href: self.link(row[0]) }, row[0]));
        } else {
          td.textContent = fmt(row[c]);
        }
        tr.appendChild(td);
      });
      self.tbody.appendChild(tr);
    });
    this.countNode.textContent =
      visible.length === this.rows.length
        ? this.rows.length + " " + this.cfg.param + "s"
        : visible.length + " of " + this.rows.length + " " + this.cfg.param + "s";
    this.pageNode.textContent = "page " + (this.page + 1) + " of " + pages;
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  };

  Timeline.prototype.link = function (id) {
    return "#" + this.cfg.param + "=" + encodeURIComponent(id);
  };

  Timeline.prototype.wanted = function (name) {
    var sources = [location.hash.replace(/^#/, ""), location.search.replace(/^\?/, "")];
    for (var i = 0; i < sources.length; i++) {
      var value = new URLSearchParams(sources[i]).get(name);
      if (value !== null) return value;
    }
    return null;
  };

  Timeline.prototype.openFromLocation = function (scroll) {
    var id = this.wanted(this.cfg.param);
    // view=solo: only the opened chart under the page header (a link or screenshot of it)
    var solo = id !== null && this.wanted("view") === "solo";
    document.body.classList.toggle("solo", solo);
    if (solo) this.root.closest("section").classList.add("solo-section");
    if (solo) scroll = false;
    if (id === null || !(id in this.index)) {
      if (id !== null) {
        this.panel.textContent = "";
        this.panel.appendChild(el("p", { class: "warning" }, "No " + this.cfg.param + " " + id + " in this report."));
      }
      return;
    }
    this.open(id);
    if (!this.query && this.sortCol < 0) {
      this.page = Math.floor(this.index[id] / (this.cfg.page_size || 20));
    }
    this.renderList();
    if (scroll) this.panel.scrollIntoView();
  };

  Timeline.prototype.open = function (id) {
    var i = this.index[id];
    var data = readJson(this.cfg.prefix + i);
    this.openId = id;
    this.panel.textContent = "";
    drawTimeline(this.panel, this.cfg, this.rows[i], data);
  };

  /* -- the chart ------------------------------------------------------------------------------ */
  function drawTimeline(panel, cfg, row, data) {
    var n = data.n;
    var xs = data.x || null;
    var xOf = function (i) {
      return xs ? xs[i] : i + 1;
    };
    var scale = cfg.scale || 1;
    var series = cfg.series;
    var markers = data.m || [];
    var kinds = cfg.kinds;
    var kind = data.kind || "";

    var title = el("h3", null, cfg.param + " " + row[0]);
    panel.appendChild(title);
    var counts = {};
    for (var k = 0; k < kind.length; k++) counts[kind[k]] = (counts[kind[k]] || 0) + 1;
    var parts = [n + " turns"];
    Object.keys(kinds).forEach(function (code) {
      if (counts[code]) parts.push(counts[code] + " " + kinds[code].label);
    });
    parts.push(markers.length + (markers.length === 1 ? " alert" : " alerts"));
    if (row[1]) parts.push(String(row[1]));
    panel.appendChild(el("p", { class: "muted" }, parts.join(" · ")));

    var W = Math.max(Math.max(640, panel.clientWidth - 32), Math.min(n * 9, 24000));
    var H = 380;
    var m = { l: 44, r: 16, t: 46, b: 34 };
    var pw = W - m.l - m.r;
    var ph = H - m.t - m.b;
    var x0 = xOf(0);
    var x1 = xOf(n - 1);
    var X = function (i) {
      return m.l + (x1 === x0 ? pw / 2 : ((xOf(i) - x0) / (x1 - x0)) * pw);
    };
    var y0 = cfg.y[0];
    var y1 = cfg.y[1];
    var Y = function (v) {
      var c = Math.max(y0, Math.min(y1, v));
      return m.t + ph - ((c - y0) / (y1 - y0)) * ph;
    };
    var step = n > 1 ? pw / (n - 1) : pw;

    var legend = el("div", { class: "legend" });
    var wrap = el("div", { class: "chart-wrap" });
    var svgNode = sv("svg", {
      class: "tl-chart",
      xmlns: SVGNS,
      viewBox: "0 0 " + W + " " + H,
      width: W,
      height: H,
      "data-group": row[0],
      "data-points": n,
      role: "img",
      "aria-label": "timeline of " + row[0],
    });

    // shaded columns for the turns drawn hollow (ai turns)
    var bands = sv("g", { class: "bands" });
    for (var b = 0; b < n; b++) {
      var info = kinds[kind[b]];
      if (info && !info.filled) {
        var left = Math.max(m.l, X(b) - step / 2);
        var right = Math.min(m.l + pw, X(b) + step / 2);
        bands.appendChild(
          sv("rect", { class: "band", x: left, y: m.t, width: Math.max(right - left, 1), height: ph })
        );
      }
    }
    svgNode.appendChild(bands);

    // grid and axes
    var grid = sv("g", { class: "grid" });
    for (var t = 0; t <= 4; t++) {
      var v = y0 + ((y1 - y0) * t) / 4;
      grid.appendChild(sv("line", { x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v) }));
      grid.appendChild(sv("text", { class: "tick", x: m.l - 6, y: Y(v) + 4, "text-anchor": "end" }, fmt(v, 2)));
    }
    var tickStep = niceStep((x1 - x0) / 10);
    for (var tx = Math.ceil(x0 / tickStep) * tickStep; tx <= x1; tx += tickStep) {
      var px = x1 === x0 ? m.l + pw / 2 : m.l + ((tx - x0) / (x1 - x0)) * pw;
      grid.appendChild(sv("line", { class: "xtick", x1: px, x2: px, y1: m.t + ph, y2: m.t + ph + 4 }));
      grid.appendChild(sv("text", { class: "tick", x: px, y: m.t + ph + 16, "text-anchor": "middle" }, tx));
    }
    grid.appendChild(
      sv("text", { class: "axis-label", x: m.l + pw / 2, y: H - 4, "text-anchor": "middle" }, cfg.x_label)
    );
    svgNode.appendChild(grid);

    // alert markers
    var markerGroup = sv("g", { class: "markers" });
    var markerAt = {};
    markers.forEach(function (marker, j) {
      var idx = xs ? xs.indexOf(marker[0]) : marker[0] - 1;
      if (idx < 0) return;
      markerAt[idx] = marker;
      var px = X(idx);
      var g = sv("g", {
        class: "marker",
        "data-x": marker[0],
        "data-label": marker[1],
        "data-id": marker[2],
      });
      g.appendChild(sv("title", null, cfg.marker_label + " " + marker[1] + " (turn " + marker[0] + ")"));
      g.appendChild(sv("line", { x1: px, x2: px, y1: m.t - 6, y2: m.t + ph }));
      g.appendChild(sv("path", { d: "M" + (px - 5) + "," + (m.t - 12) + " l10,0 l-5,7 z" }));
      var label = String(marker[1]).replace(/^veto_/, "");
      g.appendChild(
        sv("text", { x: px, y: m.t - (j % 2 === 0 ? 16 : 28), "text-anchor": "middle" }, label)
      );
      markerGroup.appendChild(g);
    });
    svgNode.appendChild(markerGroup);

    // series: a line and one point per turn
    series.forEach(function (s, si) {
      var values = data.v[si];
      var g = sv("g", { class: "series", "data-series": s.key, style: "--c:" + s.color });
      var path = "";
      var pen = false;
      for (var i = 0; i < n; i++) {
        if (values[i] === null) {
          pen = false;
          continue;
        }
        path += (pen ? "L" : "M") + X(i).toFixed(1) + "," + Y(values[i] / scale).toFixed(1);
        pen = true;
      }
      g.appendChild(sv("path", { class: "line", d: path, stroke: s.color }));
      for (var p = 0; p < n; p++) {
        if (values[p] === null) continue;
        var filled = kinds[kind[p]] ? kinds[kind[p]].filled : true;
        g.appendChild(
          sv("circle", {
            class: "pt " + (filled ? "filled" : "hollow"),
            "data-series": s.key,
            "data-x": xOf(p),
            cx: X(p).toFixed(1),
            cy: Y(values[p] / scale).toFixed(1),
            r: n > 400 ? 1.8 : 3,
            fill: filled ? s.color : "#fff",
            stroke: s.color,
          })
        );
      }
      svgNode.appendChild(g);

      var item = el("label", { class: "legend-item" });
      var box = el("input", { type: "checkbox", checked: "checked" });
      box.addEventListener("change", function () {
        g.style.display = box.checked ? "" : "none";
      });
      item.appendChild(box);
      item.appendChild(el("span", { class: "swatch", style: "background:" + s.color }));
      item.appendChild(document.createTextNode(s.label || s.key));
      legend.appendChild(item);
    });

    // hover: a guide line and a tooltip with the nearest turn
    var guide = sv("line", { class: "guide", x1: 0, x2: 0, y1: m.t, y2: m.t + ph, visibility: "hidden" });
    svgNode.appendChild(guide);
    var overlay = sv("rect", { class: "overlay", x: m.l - step / 2, y: 0, width: pw + step, height: H });
    svgNode.appendChild(overlay);
    var tip = el("div", { class: "tip", hidden: "hidden" });
    wrap.appendChild(svgNode);
    wrap.appendChild(tip);

    overlay.addEventListener("mousemove", function (event) {
      var box = svgNode.getBoundingClientRect();
      var vx = ((event.clientX - box.left) * W) / box.width;
      var i = n > 1 ? Math.round(((vx - m.l) / pw) * (n - 1)) : 0;
      if (xs && n > 1) {
        // x positions are not evenly spaced: take the nearest turn
        var best = 0;
        for (var q = 1; q < n; q++) if (Math.abs(X(q) - vx) < Math.abs(X(best) - vx)) best = q;
        i = best;
      }
      i = Math.max(0, Math.min(n - 1, i));
      guide.setAttribute("x1", X(i));
      guide.setAttribute("x2", X(i));
      guide.setAttribute("visibility", "visible");
      fillTip(tip, cfg, data, i, xOf(i), markerAt[i]);
      tip.hidden = false;
      var wrapBox = wrap.getBoundingClientRect();
      var left = event.clientX - wrapBox.left + wrap.scrollLeft + 14;
      if (left + 260 > wrap.scrollLeft + wrap.clientWidth) left -= 288;
      tip.style.left = left + "px";
      tip.style.top = event.clientY - wrapBox.top + 10 + "px";
    });
    overlay.addEventListener("mouseleave", function () {
      tip.hidden = true;
      guide.setAttribute("visibility", "hidden");
    });

    var key = el("div", { class: "legend roles" });
    Object.keys(kinds).forEach(function (code) {
      if (!counts[code]) return;
      var item = el("span", { class: "legend-item" });
      item.appendChild(el("span", { class: kinds[code].filled ? "dot filled" : "dot hollow" }));
      item.appendChild(document.createTextNode(kinds[code].label + " turn"));
      key.appendChild(item);
    });
    var alertKey = el("span", { class: "legend-item" });
    alertKey.appendChild(el("span", { class: "alert-line" }));
    alertKey.appendChild(document.createTextNode("alert (" + cfg.marker_label + ")"));
    key.appendChild(alertKey);

    panel.appendChild(legend);
    panel.appendChild(key);
    panel.appendChild(wrap);

    var list = el("ul", { class: "marker-list" });
    markers.forEach(function (marker) {
      var idx = xs ? xs.indexOf(marker[0]) : marker[0] - 1;
      var role = idx >= 0 && kinds[kind[idx]] ? kinds[kind[idx]].label : "";
      list.appendChild(el("li", null, "turn " + marker[0] + " (" + role + "): " + marker[1] + " · " + marker[2]));
    });
    if (markers.length) {
      panel.appendChild(el("h4", null, "Alerts"));
      panel.appendChild(list);
    }
  }

  function fillTip(tip, cfg, data, i, x, marker) {
    tip.textContent = "";
    var kind = cfg.kinds[(data.kind || "")[i]];
    tip.appendChild(el("div", { class: "tip-head" }, cfg.x_label + " " + x + " · " + (kind ? kind.label : "?")));
    if (marker) tip.appendChild(el("div", { class: "tip-alert" }, cfg.marker_label + ": " + marker[1]));
    var table = el("table");
    cfg.series.forEach(function (s, si) {
      var value = data.v[si][i];
      var tr = el("tr");
      var name = el("td");
      name.appendChild(el("span", { class: "swatch", style: "background:" + s.color }));
      name.appendChild(document.createTextNode(s.label || s.key));
      tr.appendChild(name);
      tr.appendChild(el("td", { class: "num" }, value === null ? "–" : (value / (cfg.scale || 1)).toFixed(4)));
      table.appendChild(tr);
    });
    tip.appendChild(table);
    if (data.t && data.t[i]) {
      var text = data.t[i];
      tip.appendChild(el("p", { class: "tip-text" }, text.length > 400 ? text.slice(0, 400) + "…" : text));
    }
  }

  function niceStep(raw) {
    if (!(raw > 0)) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var unit = raw / power;
    var nice = unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10;
    return Math.max(1, nice * power);
  }

  function initTimelines() {
    Array.prototype.forEach.call(document.querySelectorAll("div.timeline[data-config]"), function (root) {
      var cfg = readJson(root.getAttribute("data-config"));
      if (!cfg) return;
      var timeline = new Timeline(root, cfg);
      timeline.openFromLocation(true);
      window.addEventListener("hashchange", function () {
        timeline.openFromLocation(true);
      });
    });
  }

  function init() {
    initFilters();
    initDag();
    initTimelines();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
