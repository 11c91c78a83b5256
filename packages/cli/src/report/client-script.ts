/**
 * The script inlined in the report page: reads the embedded JSON, draws the charts with
 * Chart.js (per-layer bars, roofline, memory timeline, operator histogram), sorts the layer
 * table, switches between the original and optimized model, and resizes charts for print.
 *
 * It is plain browser JavaScript kept as a string (String.raw: backslashes stay verbatim; the
 * code uses no template literals so nothing here is interpolated by TypeScript). It records its
 * own render time in `window.onnxkitReport` and a `performance.measure('onnxkit-report-render')`.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var t0 = performance.now();
  performance.mark('onnxkit-report-start');
  var D = JSON.parse(document.getElementById('onnxkit-report-data').textContent);
  var state = { view: 'original', bars: 'order' };
  var charts = {};
  var TOP_N = 20;

  // ——— formatting (en-US, like the static parts) ———
  var intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  function int(v) { return v === null || v === undefined ? '—' : intFmt.format(Math.round(v)); }
  function prec(v) { return String(Number(v.toPrecision(3))); }
  var SI = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  function si(v, unit) {
    if (v === null || v === undefined) return '—';
    var u = 0; var x = v;
    while (Math.abs(x) >= 999.5 && u < SI.length - 1) { x /= 1000; u++; }
    var s = u === 0 && Number.isInteger(x) ? String(x) : prec(x);
    var suffix = SI[u] + (unit || '');
    return suffix ? s + ' ' + suffix : s;
  }
  /** Tick labels: "0", "500 K", "1 G", "0.01". */
  function tick(v) {
    if (v === 0) return '0';
    if (Math.abs(v) < 1) return String(Number(v.toPrecision(2)));
    return si(v, '').replace(' ', '');
  }
  var BIN = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  function bytes(v) {
    if (v === null || v === undefined) return '—';
    var u = 0; var x = v;
    while (Math.abs(x) >= 1024 && u < BIN.length - 1) { x /= 1024; u++; }
    return u === 0 ? Math.round(x) + ' B' : prec(x) + ' ' + BIN[u];
  }
  function secs(s) {
    if (s === null || s === undefined) return '—';
    if (s === 0) return '0';
    var a = Math.abs(s);
    if (a < 1e-6) return prec(s * 1e9) + ' ns';
    if (a < 1e-3) return prec(s * 1e6) + ' µs';
    if (a < 1) return prec(s * 1e3) + ' ms';
    return prec(s) + ' s';
  }
  function shape(s) { return s === null || s === undefined ? '?' : s.length === 0 ? 'scalar' : s.map(function (d) { return d === null ? '?' : String(d); }).join('×'); }
  function isPow10(v) { var l = Math.log10(v); return Math.abs(l - Math.round(l)) < 1e-9; }

  // ——— data per view ———
  var VIEWS = { original: { a: D.analysis, times: D.latency && D.latency.perLayer } };
  if (D.optimized) VIEWS.optimized = { a: D.optimized.analysis, times: D.latency && D.latency.perLayerOptimized };
  function opKey(l) { return l.domain ? l.domain + '::' + l.opType : l.opType; }

  // One colour per operator, fixed by the original model's histogram order (then the optimized one's).
  var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#86bcb6', '#d37295', '#a0cbe8'];
  var opColors = {};
  var opOrder = Object.keys(D.model.opHistogram).concat(D.optimized ? Object.keys(D.optimized.model.opHistogram) : []);
  opOrder.forEach(function (op) { if (!(op in opColors)) opColors[op] = PALETTE[Object.keys(opColors).length] || '#94a3b8'; });
  function opColor(op) { return opColors[op] || '#94a3b8'; }

  var C = { ink: '#0f172a', ink2: '#334155', muted: '#64748b', grid: '#e9edf2', compute: '#2563eb', memory: '#d97706', original: '#64748b', optimized: '#059669', roof: '#0f172a', measured: '#dc2626' };

  function missing(box, text) {
    clearMissing(box);
    var d = document.createElement('div');
    d.className = 'chart-missing';
    d.textContent = text;
    box.appendChild(d);
  }
  function clearMissing(box) {
    var old = box.querySelector('.chart-missing');
    if (old) old.parentNode.removeChild(old);
  }

  function base(extra) {
    var o = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      devicePixelRatio: Math.max(2, window.devicePixelRatio || 1),
      plugins: { legend: { labels: { boxWidth: 12, boxHeight: 12, padding: 10 } }, tooltip: { backgroundColor: 'rgba(15,23,42,0.92)', padding: 9, titleFont: { weight: '600' } } }
    };
    for (var k in extra) o[k] = extra[k];
    return o;
  }

  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return null;
    if (charts[id]) { charts[id].destroy(); delete charts[id]; }
    try {
      charts[id] = new Chart(canvas, config);
      return charts[id];
    } catch (e) {
      console.error('onnxkit report: chart ' + id + ' failed: ' + (e && e.message ? e.message : e));
      missing(canvas.parentNode, 'This chart could not be drawn: ' + (e && e.message ? e.message : e));
      return null;
    }
  }

  // ——— 2. per-layer bars ———
  var METRICS = {
    macs: { unit: 'MACs', noun: 'MACs', value: function (l) { return l.macs; } },
    params: { unit: 'parameters', noun: 'parameters', value: function (l) { return l.params; } },
    activations: { unit: 'elements', noun: 'new activations', value: function (l) { return l.inPlace || l.alias || l.constant ? 0 : l.activations.output; } }
  };

  function drawBars(metric) {
    var m = METRICS[metric];
    var a = VIEWS[state.view].a;
    var box = document.querySelector('[data-chart-box="' + metric + '"]');
    var top = state.bars === 'top';
    // Layers without any of this quantity (a Relu has no MACs, a view no activations) would only
    // add empty slots and push the names of the layers that matter off the axis.
    var layers = a.layers.filter(function (l) { return (m.value(l) || 0) > 0; });
    var unknown = a.layers.filter(function (l) { return m.value(l) === null || m.value(l) === undefined; }).length;
    var note = document.querySelector('[data-chart-note="' + metric + '"]');
    clearMissing(box);
    if (!layers.length) {
      if (charts['chart-' + metric]) { charts['chart-' + metric].destroy(); delete charts['chart-' + metric]; }
      if (note) note.textContent = '';
      box.style.width = ''; box.style.height = '';
      missing(box, unknown ? 'No layer has known ' + m.noun + ': ' + unknown + ' are unknown (symbolic or unresolved shapes, or ops without a cost model; see Diagnostics).' : 'No layer of this model has ' + m.noun + '.');
      return;
    }
    if (note) note.textContent = layers.length + ' of ' + a.layers.length + ' layers have ' + m.noun + (top ? '; the ' + Math.min(TOP_N, layers.length) + ' largest are shown.' : '; the others are left out.') + (unknown ? ' ' + unknown + ' unknown (see Diagnostics).' : '');
    if (top) {
      layers = layers.slice().sort(function (x, y) { return m.value(y) - m.value(x) || x.index - y.index; }).slice(0, TOP_N);
      box.style.width = '';
      box.style.height = Math.max(160, layers.length * 17 + 70) + 'px';
    } else {
      var avail = box.parentNode.clientWidth;
      box.style.width = Math.max(avail, layers.length * 6 + 90) + 'px';
      box.style.height = '';
    }
    var ops = [];
    layers.forEach(function (l) { var k = opKey(l); if ((m.value(l) || 0) > 0 && ops.indexOf(k) < 0) ops.push(k); });
    ops.sort(function (x, y) { return opOrder.indexOf(x) - opOrder.indexOf(y); });
    var datasets = ops.map(function (op) {
      return {
        label: op,
        data: layers.map(function (l) { return opKey(l) === op ? m.value(l) : null; }),
        backgroundColor: opColor(op),
        borderWidth: 0,
        grouped: false,
        barPercentage: top ? 0.8 : 0.9,
        categoryPercentage: 1
      };
    });
    var valueAxis = {
      beginAtZero: true,
      grid: { color: C.grid },
      border: { display: false },
      title: { display: true, text: m.unit, color: C.muted },
      ticks: { callback: function (v) { return tick(v); }, maxTicksLimit: 6 }
    };
    var nameAxis = {
      grid: { display: false },
      title: { display: !top, text: 'layer (execution order)', color: C.muted },
      ticks: {
        autoSkip: true,
        autoSkipPadding: top ? 2 : 10,
        maxRotation: top ? 0 : 50,
        minRotation: top ? 0 : 50,
        font: { size: top ? 11 : 10 },
        callback: function (v) { var s = this.getLabelForValue(v); return s.length > 24 ? s.slice(0, 23) + '…' : s; }
      }
    };
    make('chart-' + metric, {
      type: 'bar',
      data: { labels: layers.map(function (l) { return l.name; }), datasets: datasets },
      options: base({
        indexAxis: top ? 'y' : 'x',
        layout: { padding: { right: 8 } },
        scales: top ? { x: valueAxis, y: nameAxis } : { x: nameAxis, y: valueAxis },
        plugins: {
          legend: { position: 'top', align: 'end', labels: { boxWidth: 10, boxHeight: 10, padding: 8, font: { size: 11 } } },
          tooltip: {
            backgroundColor: 'rgba(15,23,42,0.92)',
            filter: function (item) { return item.raw !== null; },
            callbacks: {
              title: function (items) { return items.length ? layers[items[0].dataIndex].name : ''; },
              label: function (item) { return item.dataset.label + ': ' + int(item.raw) + ' ' + m.unit + ' (' + si(item.raw, '') + ')'; },
              afterLabel: function (item) { var l = layers[item.dataIndex]; return '#' + l.index + ' · output ' + shape(l.outputShape); }
            }
          }
        }
      })
    });
  }

  /** Text on a translucent white plate, so a label stays legible where it crosses a line. */
  function plate(ctx, text, x, y) {
    var w = ctx.measureText(text).width;
    var left = ctx.textAlign === 'right' ? x - w : ctx.textAlign === 'center' ? x - w / 2 : x;
    var top = ctx.textBaseline === 'top' ? y : ctx.textBaseline === 'bottom' ? y - 15 : y - 8;
    var fill = ctx.fillStyle;
    ctx.fillStyle = 'rgba(255,255,255,0.88)';
    ctx.fillRect(left - 3, top - 1, w + 6, 17);
    ctx.fillStyle = fill;
    ctx.fillText(text, x, y);
  }

  // ——— 3. roofline ———
  var rooflineLabels = {
    id: 'onnxkitRooflineLabels',
    afterDatasetsDraw: function (chart) {
      var r = chart.$roof;
      if (!r) return;
      var ctx = chart.ctx; var x = chart.scales.x; var y = chart.scales.y; var area = chart.chartArea;
      ctx.save();
      var rx = x.getPixelForValue(r.ridge); var ry = y.getPixelForValue(r.peak);
      ctx.strokeStyle = '#94a3b8'; ctx.setLineDash([4, 4]); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(rx, area.bottom); ctx.lineTo(rx, ry); ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = '600 12px ' + Chart.defaults.font.family;
      ctx.fillStyle = C.ink2;
      ctx.textAlign = 'left'; ctx.textBaseline = 'bottom';
      plate(ctx, 'ridge ' + prec(r.ridge) + ' FLOP/B', rx + 6, area.bottom - 6);
      // The compute ceiling, extended dashed to the left where no layer can reach it, carries its
      // label there: right of the ridge the layers' points sit on the roof itself.
      ctx.strokeStyle = '#94a3b8'; ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(area.left, ry); ctx.lineTo(rx, ry); ctx.stroke();
      ctx.setLineDash([]);
      ctx.textAlign = 'left'; ctx.textBaseline = 'bottom';
      plate(ctx, 'compute roof: ' + si(r.peak, 'FLOP/s') + ' (' + r.precision + ')', area.left + 6, ry - 4);
      // The memory roof's label follows its slope, at the geometric middle of the slanted part.
      var x1 = x.getPixelForValue(r.xmin); var y1 = y.getPixelForValue(r.bw * r.xmin);
      var angle = Math.atan2(ry - y1, rx - x1);
      var mx = Math.sqrt(r.xmin * r.ridge);
      var px = x.getPixelForValue(mx); var py = y.getPixelForValue(r.bw * mx);
      ctx.translate(px, py); ctx.rotate(angle);
      ctx.textAlign = 'center';
      ctx.fillText('memory roof: ' + si(r.bw, 'B/s'), 0, -6);
      ctx.restore();
    }
  };

  function drawRoofline() {
    var view = VIEWS[state.view];
    var a = view.a; var dev = a.device;
    var P = dev.peakFlops; var B = dev.memoryBandwidth; var R = P / B;
    var pts = a.layers.filter(function (l) { return !l.constant && l.arithmeticIntensity > 0 && l.flops > 0; });
    var note = document.getElementById('roofline-note');
    var skipped = a.layers.length - pts.length;
    if (note) note.textContent = pts.length + ' of ' + a.layers.length + ' layers plotted' + (skipped ? '; ' + skipped + ' without FLOPs or bytes moved (views, constants, unknown shapes) have no intensity and are left out.' : '.');
    var maxF = 0; pts.forEach(function (l) { if (l.flops > maxF) maxF = l.flops; });
    function point(l, yv) { return { x: l.arithmeticIntensity, y: yv, l: l }; }
    function radius(ctx) { var l = ctx.raw && ctx.raw.l; return l ? 2.5 + 7 * Math.sqrt(l.flops / maxF) : 3; }
    var comp = []; var mem = [];
    pts.forEach(function (l) { (l.bound === 'compute' ? comp : mem).push(point(l, Math.min(P, B * l.arithmeticIntensity))); });
    var measured = [];
    if (view.times) {
      var byName = {};
      view.times.forEach(function (t) { byName[t.name] = t.measuredUs; });
      pts.forEach(function (l) { var us = byName[l.name]; if (us > 0) measured.push(point(l, l.flops / (us * 1e-6))); });
    }
    var xs = pts.map(function (l) { return l.arithmeticIntensity; }).concat([R]);
    var lo = Math.min.apply(null, xs); var hi = Math.max.apply(null, xs);
    var xmin = Math.pow(10, Math.floor(Math.log10(lo))); var xmax = Math.pow(10, Math.ceil(Math.log10(hi * 1.0001)));
    if (xmax / xmin < 100) { xmin /= 10; xmax *= 10; }
    var ys = [B * xmin].concat(measured.map(function (p) { return p.y; }));
    var ymin = Math.pow(10, Math.floor(Math.log10(Math.min.apply(null, ys))));
    var ymax = Math.pow(10, Math.ceil(Math.log10(P * 1.6)));
    var alpha = function (hex) { return hex + 'b3'; };
    var datasets = [
      { label: 'roofline', data: [{ x: xmin, y: B * xmin }, { x: R, y: P }, { x: xmax, y: P }], showLine: true, borderColor: C.roof, borderWidth: 2, pointRadius: 0, pointHoverRadius: 0, order: 3 },
      { label: 'compute-bound (' + comp.length + ')', data: comp, backgroundColor: alpha(C.compute), borderColor: C.compute, borderWidth: 1, pointRadius: radius, pointHoverRadius: radius, order: 1 },
      { label: 'memory-bound (' + mem.length + ')', data: mem, backgroundColor: alpha(C.memory), borderColor: C.memory, borderWidth: 1, pointRadius: radius, pointHoverRadius: radius, order: 2 }
    ];
    if (measured.length) datasets.push({ label: 'measured (' + measured.length + ')', data: measured, pointStyle: 'rectRot', backgroundColor: 'rgba(0,0,0,0)', borderColor: C.measured, borderWidth: 1.5, pointRadius: 4, pointHoverRadius: 5, order: 0 });
    var logAxis = function (title, min, max, fmt) {
      return {
        type: 'logarithmic', min: min, max: max,
        grid: { color: function (c) { return c.tick && isPow10(c.tick.value) ? '#e2e8f0' : 'rgba(0,0,0,0)'; } },
        border: { display: false },
        title: { display: true, text: title, color: C.muted },
        ticks: { autoSkip: false, maxRotation: 0, callback: function (v) { return isPow10(v) ? fmt(v) : ''; } }
      };
    };
    var chart = make('chart-roofline', {
      type: 'scatter',
      data: { datasets: datasets },
      options: base({
        layout: { padding: { top: 6, right: 10 } },
        scales: {
          x: logAxis('arithmetic intensity (FLOP/byte, log scale)', xmin, xmax, tick),
          y: logAxis('attainable performance (FLOP/s, log scale)', ymin, ymax, tick)
        },
        plugins: {
          legend: { position: 'top', align: 'end', labels: { boxWidth: 10, boxHeight: 10, padding: 10, usePointStyle: true, filter: function (item) { return item.text !== 'roofline'; }, sort: function (a, b) { return a.datasetIndex - b.datasetIndex; } } },
          tooltip: {
            backgroundColor: 'rgba(15,23,42,0.92)',
            filter: function (item) { return !!(item.raw && item.raw.l); },
            callbacks: {
              title: function (items) { return items.length && items[0].raw.l ? items[0].raw.l.name : ''; },
              label: function (item) {
                var l = item.raw.l;
                var isMeasured = item.dataset.label.indexOf('measured') === 0;
                return [
                  opKey(l) + (l.bound ? ' · ' + l.bound + '-bound' : ''),
                  'intensity ' + prec(l.arithmeticIntensity) + ' FLOP/B · ' + si(l.flops, 'FLOP'),
                  (isMeasured ? 'measured ' : 'attainable ') + si(item.raw.y, 'FLOP/s'),
                  'estimated ' + secs(l.latency) + (isMeasured ? ' · measured ' + secs(l.flops / item.raw.y) : '')
                ];
              }
            }
          }
        }
      }),
      plugins: [rooflineLabels]
    });
    if (chart) { chart.$roof = { ridge: R, peak: P, bw: B, xmin: xmin, precision: dev.precision }; chart.draw(); }
  }

  // ——— 4. memory timeline ———
  var peakLabel = {
    id: 'onnxkitPeakLabel',
    afterDatasetsDraw: function (chart) {
      var p = chart.$peak;
      if (!p) return;
      var ctx = chart.ctx; var area = chart.chartArea;
      var px = chart.scales.x.getPixelForValue(p.x); var py = chart.scales.y.getPixelForValue(p.y);
      ctx.save();
      ctx.font = '600 12px ' + Chart.defaults.font.family;
      ctx.textBaseline = 'middle';
      var w = ctx.measureText(p.text).width;
      var right = px + 14 + w < area.right;
      ctx.fillStyle = p.color;
      ctx.textAlign = right ? 'left' : 'right';
      plate(ctx, p.text, right ? px + 14 : px - 14, Math.max(area.top + 8, py - 2));
      ctx.restore();
    }
  };

  function drawMemory() {
    var canvas = document.getElementById('chart-memory');
    if (!canvas) return;
    var t = VIEWS[state.view].a.memoryTimeline;
    var color = state.view === 'optimized' ? C.optimized : C.compute;
    var box = canvas.parentNode;
    var pk = t && t.length ? t[0] : null;
    if (pk) t.forEach(function (p) { if (p.liveBytes > pk.liveBytes) pk = p; });
    if (!pk || pk.liveBytes === 0) {
      if (charts['chart-memory']) { charts['chart-memory'].destroy(); delete charts['chart-memory']; }
      missing(box, !pk ? 'No memory timeline in this analysis (it was computed with timeline: false).' : 'Every activation size is unknown (symbolic or unresolved shapes): pin input shapes with --input-shape to see the timeline.');
      return;
    }
    clearMissing(box);
    var unit = pk.liveBytes >= 1073741824 ? ['GiB', 1073741824] : pk.liveBytes >= 1048576 ? ['MiB', 1048576] : pk.liveBytes >= 1024 ? ['KiB', 1024] : ['B', 1];
    var pt = function (p) { return { x: p.step, y: p.liveBytes / unit[1], n: p.node, b: p.liveBytes }; };
    var chart = make('chart-memory', {
      type: 'line',
      data: {
        datasets: [
          { label: 'live activation bytes', data: t.map(pt), borderColor: color, backgroundColor: color + '26', fill: 'origin', borderWidth: 1.5, pointRadius: 0, pointHoverRadius: 3, stepped: 'middle' },
          { label: 'peak', data: [pt(pk)], showLine: false, pointStyle: 'triangle', pointRadius: 7, pointHoverRadius: 8, backgroundColor: color, borderColor: '#fff', borderWidth: 1 }
        ]
      },
      options: base({
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        layout: { padding: { top: 6, right: 10 } },
        scales: {
          x: { type: 'linear', min: 0, max: t[t.length - 1].step, grid: { color: C.grid }, border: { display: false }, title: { display: true, text: 'execution step (node index)', color: C.muted }, ticks: { precision: 0, maxTicksLimit: 16 } },
          y: { beginAtZero: true, grace: '14%', grid: { color: C.grid }, border: { display: false }, title: { display: true, text: 'live activations (' + unit[0] + ')', color: C.muted }, ticks: { maxTicksLimit: 7, callback: function (v) { return String(Number(v.toPrecision(3))); } } }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            backgroundColor: 'rgba(15,23,42,0.92)',
            filter: function (item) { return item.datasetIndex === 0; },
            callbacks: {
              title: function (items) { return items.length ? 'step ' + items[0].raw.x + ' · ' + items[0].raw.n : ''; },
              label: function (item) { return 'live activations: ' + bytes(item.raw.b); }
            }
          }
        }
      }),
      plugins: [peakLabel]
    });
    if (chart) { chart.$peak = { x: pk.step, y: pk.liveBytes / unit[1], color: color, text: 'peak ' + bytes(pk.liveBytes) + ' at step ' + pk.step + ' · ' + pk.node }; chart.draw(); }
  }

  // ——— 5. operator histogram ———
  function drawOps() {
    if (!D.optimized || !document.getElementById('chart-ops')) return;
    var ops = [];
    opOrder.forEach(function (op) { if (ops.indexOf(op) < 0) ops.push(op); });
    var a = D.model.opHistogram; var b = D.optimized.model.opHistogram;
    make('chart-ops', {
      type: 'bar',
      data: {
        labels: ops,
        datasets: [
          { label: 'original', data: ops.map(function (o) { return a[o] || 0; }), backgroundColor: C.original, borderWidth: 0, barPercentage: 0.85, categoryPercentage: 0.8 },
          { label: 'optimized', data: ops.map(function (o) { return b[o] || 0; }), backgroundColor: C.optimized, borderWidth: 0, barPercentage: 0.85, categoryPercentage: 0.8 }
        ]
      },
      options: base({
        indexAxis: 'y',
        scales: {
          x: { beginAtZero: true, grid: { color: C.grid }, border: { display: false }, title: { display: true, text: 'nodes', color: C.muted }, ticks: { precision: 0 } },
          y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: 11 } } }
        },
        plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 10, boxHeight: 10 } } }
      })
    });
  }

  // ——— 6. sortable tables ———
  function setupTable(table) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      var numeric = th.getAttribute('data-type') === 'num';
      function sort() {
        var cur = th.getAttribute('aria-sort');
        var dir = cur === 'none' ? (numeric && th.getAttribute('data-key') !== 'index' ? 'descending' : 'ascending') : cur === 'ascending' ? 'descending' : 'ascending';
        var keyed = rows.map(function (r) {
          var c = r.cells[col];
          var k;
          if (numeric) k = c.hasAttribute('data-v') ? Number(c.getAttribute('data-v')) : null;
          else k = c.hasAttribute('data-s') ? c.getAttribute('data-s') : c.textContent === '—' ? null : c.textContent;
          return { r: r, k: k, i: Number(r.getAttribute('data-i')) };
        });
        keyed.sort(function (x, y) {
          if (x.k === null || y.k === null) return x.k === y.k ? x.i - y.i : x.k === null ? 1 : -1;
          var c = numeric ? x.k - y.k : x.k < y.k ? -1 : x.k > y.k ? 1 : 0;
          if (dir === 'descending') c = -c;
          return c || x.i - y.i;
        });
        var frag = document.createDocumentFragment();
        keyed.forEach(function (e) { frag.appendChild(e.r); });
        tbody.appendChild(frag);
        heads.forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir);
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  }

  // ——— toggles ———
  function press(group, value) {
    document.querySelectorAll('[data-toggle="' + group + '"] button').forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-value') === value)); });
  }
  function drawLayerCharts() { ['macs', 'params', 'activations'].forEach(drawBars); drawRoofline(); drawMemory(); }
  function setView(v) {
    if (!VIEWS[v] || state.view === v) return;
    state.view = v;
    press('view', v);
    document.querySelectorAll('.table-scroll[data-view]').forEach(function (el) { el.hidden = el.getAttribute('data-view') !== v; });
    var count = document.querySelector('[data-layer-count]');
    if (count) count.textContent = int(VIEWS[v].a.layers.length) + ' layers';
    drawLayerCharts();
  }
  document.querySelectorAll('[data-toggle="view"] button').forEach(function (b) { b.addEventListener('click', function () { setView(b.getAttribute('data-value')); }); });
  document.querySelectorAll('[data-toggle="bars"] button').forEach(function (b) {
    b.addEventListener('click', function () {
      var v = b.getAttribute('data-value');
      if (state.bars === v) return;
      state.bars = v;
      press('bars', v);
      ['macs', 'params', 'activations'].forEach(drawBars);
    });
  });

  // ——— print: charts take the A4 column (≈186 mm) and the print heights of the stylesheet ———
  var PRINT_WIDTH = 700;
  function fitPrint(on) {
    Object.keys(charts).forEach(function (id) {
      var c = charts[id];
      if (!on) { c.resize(); return; }
      var box = c.canvas.parentNode;
      // The print heights of the stylesheet in CSS px (1 mm = 3.78 px): tall 110 mm, bars 80 mm, others 62 mm.
      var h = box.classList.contains('tall') ? 416 : box.classList.contains('bars') ? 302 : id === 'chart-ops' ? Math.min(box.clientHeight, 520) : 234;
      c.resize(PRINT_WIDTH, h);
    });
  }
  window.addEventListener('beforeprint', function () { fitPrint(true); });
  window.addEventListener('afterprint', function () { fitPrint(false); });
  var mq = window.matchMedia ? window.matchMedia('print') : null;
  if (mq && mq.addEventListener) mq.addEventListener('change', function (e) { fitPrint(e.matches); });

  document.querySelectorAll('table[data-table="layers"]').forEach(setupTable);
  if (typeof Chart === 'undefined') {
    document.querySelectorAll('.chart-box').forEach(function (b) { missing(b, 'Chart.js did not load, so charts are not drawn; the tables below are complete.'); });
    console.error('onnxkit report: Chart.js is not available');
  } else {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = C.ink2;
    Chart.defaults.borderColor = C.grid;
    drawLayerCharts();
    drawOps();
  }

  performance.mark('onnxkit-report-end');
  performance.measure('onnxkit-report-render', 'onnxkit-report-start', 'onnxkit-report-end');
  var t1 = performance.now();
  window.onnxkitReport = { renderMs: t1 - t0, startMs: t0, endMs: t1, charts: Object.keys(charts), view: function () { return state.view; }, setView: setView };
  document.documentElement.setAttribute('data-report-ready', '1');
})();
`;
