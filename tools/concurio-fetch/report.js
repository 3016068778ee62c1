/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch --report: draws the page's charts as SVG from the JSON in #data. No
 * library, no network. Each chart that is drawn counts in body's data-rendered; an error
 * lands in #errors (and data-errors), where the browser test looks. */
"use strict";
(function () {
  var errors = 0;
  function fail(msg) {
    errors++;
    document.body.setAttribute("data-errors", String(errors));
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = "report error: " + msg;
    document.getElementById("errors").appendChild(p);
  }
  window.addEventListener("error", function (e) { fail(e.message); });

  var NS = "http://www.w3.org/2000/svg";
  var W = 900, H = 260, L = 64, R = 16, T = 16, B = 40;
  var COLORS = { done: "#2e7d32", error: "#c62828", timeout: "#ef6c00", none: "#757575",
                 "1xx": "#90a4ae", "2xx": "#2e7d32", "3xx": "#1565c0", "4xx": "#f9a825",
                 "5xx": "#c62828" };

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, attrs) {
    var t = el("text", attrs || {}, parent);
    t.setAttribute("x", x);
    t.setAttribute("y", y);
    t.textContent = s;
    return t;
  }
  function fmt(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + "M";
    if (v >= 1e4) return (v / 1e3).toFixed(0) + "k";
    if (v >= 100) return v.toFixed(0);
    if (v >= 10) return v.toFixed(1).replace(/\.0$/, "");
    return v.toFixed(2).replace(/\.?0+$/, "") || "0";
  }
  function ms(v) { return v >= 1000 ? fmt(v / 1000) + " s" : fmt(v) + " ms"; }
  function niceTicks(max, n) {
    if (!(max > 0)) return [0, 1];
    var step = Math.pow(10, Math.floor(Math.log10(max / n)));
    var err = max / n / step;
    step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
    var ticks = [];
    for (var v = 0; v <= max * 1.0001 + step; v += step) { ticks.push(v); if (v >= max) break; }
    return ticks;
  }

  /* A chart frame: x from 0 to xmax seconds, y linear to ymax or log from ylo to yhi. */
  function frame(id, title, note, xmax, y) {
    var sec = document.getElementById(id);
    var h = document.createElement("h2");
    h.textContent = title;
    sec.appendChild(h);
    if (note) {
      var p = document.createElement("p");
      p.className = "note";
      p.textContent = note;
      sec.appendChild(p);
    }
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, "class": "plot", role: "img",
                          "aria-label": title }, sec);
    var f = { svg: svg, sec: sec };
    f.x = function (v) { return L + (W - L - R) * (xmax > 0 ? v / xmax : 0); };
    if (y.log) {
      var lo = Math.log10(y.lo), hi = Math.log10(y.hi);
      f.y = function (v) {
        var l = Math.log10(Math.max(v, y.lo));
        return H - B - (H - T - B) * (hi > lo ? (l - lo) / (hi - lo) : 0);
      };
    } else {
      f.y = function (v) { return H - B - (H - T - B) * (y.max > 0 ? v / y.max : 0); };
    }
    var g = el("g", { "class": "axis" }, svg);
    el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B }, g);
    el("line", { x1: L, y1: T, x2: L, y2: H - B }, g);
    var xt = y.xticks || niceTicks(xmax, 8);
    xt.forEach(function (v) {
      if (v > xmax * 1.0001) return;
      el("line", { x1: f.x(v), y1: H - B, x2: f.x(v), y2: H - B + 4 }, g);
      text(g, f.x(v), H - B + 16, y.xlabel ? y.xlabel(v) : fmt(v) + " s", { "text-anchor": "middle" });
    });
    var yt = [];
    if (y.log) {
      for (var e = Math.floor(Math.log10(y.lo)); e <= Math.ceil(Math.log10(y.hi)); e++)
        yt.push(Math.pow(10, e));
    } else {
      yt = niceTicks(y.max, 5);
    }
    yt.forEach(function (v) {
      if ((y.log && (v < y.lo || v > y.hi)) || (!y.log && v > y.max * 1.0001)) return;
      el("line", { x1: L, y1: f.y(v), x2: W - R, y2: f.y(v), "class": "grid" }, g);
      text(g, L - 6, f.y(v) + 4, y.ylabel ? y.ylabel(v) : fmt(v), { "text-anchor": "end" });
    });
    text(g, W - R, H - 6, y.xname || "time since the first start", { "text-anchor": "end" });
    return f;
  }
  function legend(sec, names) {
    var p = document.createElement("p");
    p.className = "legend";
    names.forEach(function (n) {
      var s = document.createElement("span");
      s.innerHTML = '<i style="background:' + COLORS[n] + '"></i>';
      s.appendChild(document.createTextNode(n));
      p.appendChild(s);
    });
    sec.appendChild(p);
  }
  function path(f, xs, ys, attrs) {
    var d = "";
    for (var i = 0; i < xs.length; i++) d += (i ? "L" : "M") + f.x(xs[i]).toFixed(1) + "," + f.y(ys[i]).toFixed(1);
    attrs.d = d;
    return el("path", attrs, f.svg);
  }

  var D = JSON.parse(document.getElementById("data").textContent);
  var S = D.summary, bins = D.bins, n = bins.starts.length, wsec = bins.width_ms / 1000;
  var t0 = (bins.origin_ms - D.first_ms) / 1000;
  var xs = [], i;
  for (i = 0; i < n; i++) xs.push(Math.max(0, t0 + (i + 0.5) * wsec));
  var xmax = Math.max(wsec, (D.last_ms - D.first_ms) / 1000, t0 + n * wsec);
  var rendered = 0;
  function per_sec(a) { return a.map(function (v) { return v / wsec; }); }

  function draw_starts() {
    var last = n;
    while (last > 1 && bins.starts[last - 1] === 0) last--; /* bins of ends only */
    var ys = per_sec(bins.starts.slice(0, last)), top = Math.max.apply(null, ys.concat([1]));
    var limit = D.rate ? D.rate.count / (D.rate.period_ms / 1000) : 0;
    var note = "Each point is one " + ms(bins.width_ms) + " bin. Busiest: " + fmt(top) + "/s" +
      (limit ? "; the limit given, " + fmt(limit) + "/s, dashed." :
       "; give --report the run's -r to draw its limit.");
    var f = frame("starts", "Requests started per second", note, xmax, { max: Math.max(top, limit) * 1.1 });
    path(f, xs.slice(0, last), ys, { "class": "line", stroke: "#1565c0" });
    if (limit) {
      el("line", { x1: L, x2: W - R, y1: f.y(limit), y2: f.y(limit), "class": "limit" }, f.svg);
      text(f.svg, W - R - 4, f.y(limit) - 4, "limit " + fmt(limit) + "/s", { "text-anchor": "end", "class": "limit-label" });
    }
    f.sec.setAttribute("data-points", String(n));
  }

  function draw_latency() {
    var lo = 0.5, hi = Math.max(10, S.latency_ms.max * 1.5);
    var all = D.sampled === D.points.length;
    var f = frame("latency", "Latency over time",
      all ? "Every request: its start and how long it took." :
            "Density of " + fmt(D.sampled) + " requests by start and latency (darker: more); " +
            "up to " + fmt(D.points.length) + " are drawn one by one.",
      xmax, { log: true, lo: lo, hi: hi, ylabel: ms });
    if (all) {
      var names = ["done", "error", "timeout"];
      D.points.forEach(function (p) {
        el("circle", { cx: f.x(p[0] / 1000).toFixed(1), cy: f.y(Math.max(p[1], lo)).toFixed(1), r: 1.6,
                       fill: COLORS[names[p[2]]], "class": "pt" }, f.svg);
      });
      legend(f.sec, names);
    } else {
      var peak = 1;
      bins.lat.forEach(function (row) { row.forEach(function (c) { if (c > peak) peak = c; }); });
      var bw = (W - L - R) * wsec / xmax;
      bins.lat.forEach(function (row, b) {
        row.forEach(function (c, k) {
          if (!c) return;
          var y1 = f.y(k === 0 ? lo : Math.pow(2, k - 1)), y2 = f.y(k === 0 ? 1 : Math.pow(2, k));
          el("rect", { x: f.x(Math.max(0, t0 + b * wsec)).toFixed(1), y: Math.min(y1, y2).toFixed(1),
                       width: Math.max(bw, 1).toFixed(1), height: Math.max(Math.abs(y1 - y2), 1).toFixed(1),
                       fill: "#4527a0", "fill-opacity": (0.12 + 0.88 * Math.log(1 + c) / Math.log(1 + peak)).toFixed(2),
                       "class": "cell" }, f.svg);
        });
      });
    }
  }

  function draw_hist() {
    var h = D.hist, top = 1, lo = 0.5, hi = Math.max(10, S.latency_ms.max * 1.5);
    h.forEach(function (b) { if (b[1] > top) top = b[1]; });
    var lq = S.latency_ms;
    var f = frame("histogram", "Latency histogram",
      "p50 " + ms(lq.p50) + ", p90 " + ms(lq.p90) + ", p99 " + ms(lq.p99) + ", max " + ms(lq.max) +
      " (" + fmt(D.latencies) + " requests that started).",
      Math.log10(hi) - Math.log10(lo),
      { log: true, lo: 0.8, hi: top * 2, ylabel: fmt, xname: "latency (counts on a log scale)", xticks: (function () {
          var t = []; for (var e = Math.ceil(Math.log10(lo)); Math.pow(10, e) <= hi; e++) t.push(e - Math.log10(lo)); return t; })(),
        xlabel: function (v) { return ms(Math.pow(10, v + Math.log10(lo))); } });
    var X = function (v) { return f.x(Math.log10(Math.max(v, lo)) - Math.log10(lo)); };
    h.forEach(function (b) {
      var x1 = X(b[0] < 32 ? b[0] - 0.5 : b[0] * 0.97), x2 = X(b[0] < 32 ? b[0] + 0.5 : b[0] * 1.03);
      el("rect", { x: x1.toFixed(1), y: f.y(b[1]).toFixed(1), width: Math.max(x2 - x1, 1.5).toFixed(1),
                   height: (H - B - f.y(b[1])).toFixed(1), fill: "#1565c0", "class": "bar" }, f.svg);
    });
    [["p50", lq.p50], ["p90", lq.p90], ["p99", lq.p99]].forEach(function (q) {
      var x = X(q[1]);
      el("line", { x1: x, x2: x, y1: T, y2: H - B, "class": "quantile" }, f.svg);
      text(f.svg, x + 3, T + 12 + (q[0] === "p90" ? 14 : q[0] === "p99" ? 28 : 0), q[0] + " " + ms(q[1]), { "class": "q-label" });
    });
  }

  function stacked(id, title, note, series, names) {
    var tot = [], top = 1;
    for (var b = 0; b < n; b++) {
      var s = 0;
      series.forEach(function (a) { s += a[b]; });
      tot.push(s / wsec);
      if (s / wsec > top) top = s / wsec;
    }
    var f = frame(id, title, note, xmax, { max: top * 1.1 });
    var base = new Array(n).fill(0);
    series.forEach(function (a, k) {
      var up = base.map(function (v, b) { return v + a[b] / wsec; });
      var d = "";
      for (var b = 0; b < n; b++) d += (b ? "L" : "M") + f.x(xs[b]).toFixed(1) + "," + f.y(up[b]).toFixed(1);
      for (b = n - 1; b >= 0; b--) d += "L" + f.x(xs[b]).toFixed(1) + "," + f.y(base[b]).toFixed(1);
      el("path", { d: d + "Z", fill: COLORS[names[k]], "fill-opacity": 0.85, "class": "area" }, f.svg);
      base = up;
    });
    legend(f.sec, names);
  }

  function table(id, title, head, rows) {
    var sec = document.getElementById(id);
    var h = document.createElement("h2");
    h.textContent = title;
    sec.appendChild(h);
    if (!rows.length) {
      var p = document.createElement("p");
      p.className = "note";
      p.textContent = "None.";
      sec.appendChild(p);
      return;
    }
    var t = document.createElement("table"), tr = document.createElement("tr");
    head.forEach(function (c) { var th = document.createElement("th"); th.textContent = c; tr.appendChild(th); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = document.createElement("tr");
      r.forEach(function (c) { var td = document.createElement("td"); td.textContent = c; row.appendChild(td); });
      t.appendChild(row);
    });
    sec.appendChild(t);
  }

  function headline() {
    var h = document.getElementById("headline");
    var span = (D.last_ms - D.first_ms) / 1000;
    h.textContent = fmt(D.records) + " records: " + fmt(S.done) + " done, " + fmt(S.error) + " errors, " +
      fmt(S.timeout) + " timeouts, over " + ms(span * 1000) + " from " + new Date(D.first_ms).toISOString() +
      (D.junk || D.too_long ? " (" + fmt(D.junk + D.too_long) + " lines that are not records skipped)" : "") + ".";
  }

  var steps = [
    headline,
    draw_starts,
    draw_latency,
    draw_hist,
    function () {
      stacked("outcomes", "Outcomes over time", "Items ending per second, by outcome.",
              [bins.done, bins.error, bins.timeout], ["done", "error", "timeout"]);
    },
    function () {
      stacked("statuses", "HTTP statuses over time", "Responses ending per second, by status class.",
              [bins.c[2], bins.c[3], bins.c[4], bins.c[5], bins.c[1], bins.c[0]],
              ["2xx", "3xx", "4xx", "5xx", "1xx", "none"]);
    },
    function () {
      var rows = Object.keys(S.errors).map(function (k) { return [k, S.errors[k]]; });
      rows.sort(function (a, b) { return b[1] - a[1]; });
      table("causes", "Errors by cause", ["cause", "errors"], rows.slice(0, 20));
    },
    function () {
      var hs = D.hosts.slice().sort(function (a, b) { return b.p90 - a.p90; }).slice(0, 10);
      table("slow", "Slowest hosts (by p90)", ["host", "items", "p50", "p90", "max"],
            hs.map(function (x) { return [x.name, x.items, ms(x.p50), ms(x.p90), ms(x.max)]; }));
    },
    function () {
      var hs = D.hosts.filter(function (x) { return x.failed > 0; })
        .sort(function (a, b) { return b.failed - a.failed; }).slice(0, 10);
      table("failing", "Failing hosts", ["host", "items", "errors and timeouts", "share"],
            hs.map(function (x) { return [x.name, x.items, x.failed, (100 * x.failed / x.items).toFixed(1) + "%"]; }));
    },
  ];
  steps.forEach(function (step) {
    try { step(); rendered++; } catch (e) { fail(e && e.stack ? e.stack : String(e)); }
  });
  document.body.setAttribute("data-rendered", String(rendered));
})();
