/* glassbox report: draws the views of the page's data.
 *
 * The page carries plotly.js (#glassbox-plotly, left out of pages without charts) and the data's
 * JSON (#glassbox-data) gzipped and base64-encoded; the browser's DecompressionStream unpacks them,
 * then plotly.js runs and the views are drawn. Strings from the data reach the page only as text nodes
 * and attribute values (el) or escaped for plotly's pseudo-HTML (plotText), never as HTML. The view
 * state (view, metric, slice, filters, sorting, page) lives in the URL's hash, so a link reopens the
 * same view. VIEWS maps a view name to its title and its render function; the data's "views" names
 * those to show, first one first.
 */
function unpack(id) {
  const bytes = Uint8Array.from(atob(document.getElementById(id).textContent), c => c.charCodeAt(0));
  return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
}

const WITH_CHARTS = document.getElementById('glassbox-plotly') !== null; // pages without charts carry none
Promise.all([WITH_CHARTS ? unpack('glassbox-plotly') : '', unpack('glassbox-data')]).then(([plotly, data]) => {
  if (WITH_CHARTS) {
    const script = document.createElement('script');
    script.textContent = plotly;
    document.head.append(script); // runs now, defining Plotly
  }
  return JSON.parse(data);
}).then(function (DATA) {
  'use strict';

  const PAGE_SIZE = 100;
  const HISTOGRAM_FROM_SLICES = 30; // from this many slices on, the histogram is the default
  const PLOT_CONFIG = {displaylogo: false, responsive: true};
  // open/closed state of the column chooser and the simpler models, not worth a link
  const ui = {columnsOpen: false, simpleOpen: false};

  /* ---------- DOM ---------- */

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (typeof value === 'function') node.addEventListener(key.replace(/^on/, ''), value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of [].concat(children === undefined ? [] : children).flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function labelled(text, control) {
    return el('label', {}, [el('span', {text: text}), control]);
  }

  function select(key, options, current, onchange) {
    return el('select', {name: key, onchange: onchange || (e => state.set({[key]: e.target.value}))},
      options.map(([value, text]) => el('option', {value: value, selected: value === current, text: text})));
  }

  function numberInput(key, value, attributes) {
    return el('input', Object.assign({type: 'number', name: key, value: value,
      onchange: e => state.set({[key]: e.target.value, page: null})}, attributes));
  }

  function fmt(value) {
    if (value === null || value === undefined) return '–';
    if (typeof value !== 'number') return String(value);
    const size = Math.abs(value);
    if (size !== 0 && (size >= 1e6 || size < 1e-3)) return value.toExponential(3);
    return String(Number(value.toPrecision(5)));
  }

  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  const unique = values => [...new Set(values)];

  /* ---------- URL state ---------- */

  const state = {
    params: new URLSearchParams(location.hash.slice(1)),
    get(key, fallback) {
      const value = this.params.get(key);
      return value === null ? fallback : value;
    },
    getAll(key) {
      return this.params.has(key) ? this.params.getAll(key).filter(v => v !== '') : null;
    },
    /* Sets keys (null or '' removes one; an array sets a list, [] an empty one) and redraws. */
    set(changes) {
      for (const [key, value] of Object.entries(changes)) {
        this.params.delete(key);
        if (Array.isArray(value)) (value.length ? value : ['']).forEach(v => this.params.append(key, v));
        else if (value !== null && value !== undefined && value !== '') this.params.set(key, String(value));
      }
      try {
        history.replaceState(null, '', '#' + this.params.toString());
      } catch (e) {
        // A sandboxed frame may refuse URL changes: the state then lives in memory only.
      }
      render();
    },
  };
  window.addEventListener('hashchange', () => {
    state.params = new URLSearchParams(location.hash.slice(1));
    render();
  });

  /* ---------- tables: sortable by any column, paginated ---------- */

  function compare(a, b, descending) {
    const aMissing = a === null || a === undefined, bMissing = b === null || b === undefined;
    if (aMissing || bMissing) return aMissing - bMissing; // missing values last, either way
    const order = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
    return descending ? -order : order;
  }

  function sortRows(rows, value, descending) {
    return rows.map(row => [value(row), row]).sort((a, b) => compare(a[0], b[0], descending)).map(p => p[1]);
  }

  /* columns: [{id, label, value(row), text?(row), title?(row)}]; the sort ("-id" descending) and the
   * page are kept under the state keys opts.sortKey and opts.pageKey. */
  function dataTable(columns, rows, opts) {
    const spec = state.get(opts.sortKey, opts.defaultSort || '');
    const descending = spec.startsWith('-');
    const sortColumn = columns.find(c => c.id === (descending ? spec.slice(1) : spec));
    const sorted = sortColumn ? sortRows(rows, sortColumn.value, descending) : rows;
    const pages = Math.max(1, Math.ceil(sorted.length / PAGE_SIZE));
    const page = clamp(parseInt(state.get(opts.pageKey, '1'), 10) || 1, 1, pages);
    const first = (page - 1) * PAGE_SIZE;
    // A header is a button (a click, Enter or Space sorts), its th says how the table is sorted.
    const head = columns.map(column => el('th', {
      'data-column': column.id, scope: 'col',
      'aria-sort': column === sortColumn ? (descending ? 'descending' : 'ascending') : 'none',
      class: column === sortColumn ? (descending ? 'sorted desc' : 'sorted asc') : null,
    }, el('button', {type: 'button', class: 'sort', title: 'Sort by ' + column.label, 'data-focus': `sort:${opts.name}:${column.id}`,
      onclick: () => state.set({[opts.sortKey]: (column === sortColumn && !descending ? '-' : '') + column.id,
                                [opts.pageKey]: null}),
    }, column.label)));
    // A row that opens something is reached with Tab and opened with Enter too.
    const body = sorted.slice(first, first + PAGE_SIZE).map((row, i) => el('tr', {
      class: opts.rowClass ? opts.rowClass(row) : null,
      onclick: opts.onRow ? () => opts.onRow(row) : null,
      tabindex: opts.onRow ? 0 : null,
      'data-focus': opts.onRow ? `row:${opts.name}:${opts.rowKey ? opts.rowKey(row) : first + i}` : null,
      onkeydown: opts.onRow ? e => { if (e.key === 'Enter') opts.onRow(row); } : null,
    }, columns.map(column => {
      const value = column.value(row);
      return el('td', {class: typeof value === 'number' ? 'num' : null, title: column.title ? column.title(row) : null},
        column.text ? column.text(row) : fmt(value));
    })));
    const pager = pages > 1 ? el('div', {class: 'pager'}, [
      el('button', {text: '‹ Previous', disabled: page === 1, onclick: () => state.set({[opts.pageKey]: page - 1})}),
      el('span', {text: `rows ${first + 1}–${Math.min(first + PAGE_SIZE, sorted.length)} of ${sorted.length}`}),
      el('button', {text: 'Next ›', disabled: page === pages, onclick: () => state.set({[opts.pageKey]: page + 1})}),
    ]) : null;
    return el('div', {class: 'table', 'data-table': opts.name}, [el('table', {}, [
      el('caption', {class: 'sr-only', text: opts.caption + (sortColumn ? `, sorted by ${sortColumn.label}, ${descending ? 'descending' : 'ascending'}` : '')}),
      el('thead', {}, el('tr', {}, head)), el('tbody', {}, body)]), pager]);
  }

  /* ---------- charts (plotly), drawn once their element is in the page ---------- */

  let pendingCharts = [];

  function plotText(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }

  /* A chart in words, for screen readers: each series' extremes, or a heat map's cells. */
  function chartSummary(title, traces) {
    const text = value => String(value).replace(/<br>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const parts = traces.filter(t => t.showlegend !== false).map(t => {
      if (t.type === 'heatmap') {
        return t.y.map((row, i) => `${row}: ` + t.x.map((column, j) => `${column} ${fmt(t.z[i][j])}`).join(', ')).join('; ');
      }
      const horizontal = t.orientation === 'h';
      const points = (horizontal ? t.x : t.y).map((v, i) => [v, (horizontal ? t.y : t.x)[i]]).filter(p => typeof p[0] === 'number');
      if (!points.length) return null;
      const low = points.reduce((a, b) => (b[0] < a[0] ? b : a)), high = points.reduce((a, b) => (b[0] > a[0] ? b : a));
      return `${text(t.name || 'values')}: ${points.length} values, lowest ${fmt(low[0])} at ${text(low[1])}, ` +
             `highest ${fmt(high[0])} at ${text(high[1])}`;
    }).filter(part => part);
    return [text(title)].concat(parts).join('. ') + '.';
  }

  /* A chart (drawn once in the page) in a figure whose caption, for screen readers, says it in words. */
  function chart(name, title, traces, layout, onDrawn) {
    const div = el('div', {class: 'chart', 'data-chart': name, role: 'img', 'aria-label': title});
    const figure = el('figure', {class: 'chart-figure'}, [div, el('figcaption', {class: 'sr-only', text: chartSummary(title, traces)})]);
    // The legend above the plot area, right of the title: never over a curve or a point.
    pendingCharts.push(() => Plotly.newPlot(div, traces, Object.assign({
      title: {text: plotText(title), font: {size: 14}, x: 0.01, xanchor: 'left'}, height: 360,
      margin: {l: 60, r: 20, t: 70, b: 50},
      legend: {orientation: 'h', x: 1, y: 1.02, xanchor: 'right', yanchor: 'bottom'}, hoverlabel: {align: 'left'},
    }, layout), PLOT_CONFIG).then(() => onDrawn && onDrawn(div)));
    return figure;
  }

  function axes(x, y, extra) {
    return Object.assign({xaxis: {title: {text: x}, range: [0, 1]}, yaxis: {title: {text: y}, range: [0, 1]}}, extra);
  }

  const DIAGONAL = {x: [0, 1], y: [0, 1], mode: 'lines', line: {dash: 'dot', color: '#999'}, showlegend: false,
                    hoverinfo: 'skip'};
  const HEAT = [[0, '#f1f5fb'], [1, '#1a73e8']];

  /* ---------- the evaluation ---------- */

  const E = DATA.evaluation;
  const COLUMN = new Map(E ? E.columns.map((column, i) => [column.id, i]) : []);
  const columnValue = (row, id) => (COLUMN.has(id) ? row.values[COLUMN.get(id)] : null);
  const showSlice = name => state.set({view: 'plots', slice: name});

  function pickSlice(names) {
    const wanted = state.get('slice');
    return names.includes(wanted) ? wanted : names.includes('Overall') ? 'Overall' : names[0];
  }

  function sliceSelect(names, current) {
    return labelled('Slice', select('slice', names.map(n => [n, n]), current));
  }

  function parseRange(text) {
    const bounds = (text || '').split(',').map(Number);
    return bounds.length === 2 && bounds.every(Number.isFinite) && bounds[0] <= bounds[1] ? bounds : null;
  }

  function slicesView() {
    if (!E.columns.length) return el('p', {class: 'empty', text: 'This evaluation has no scalar metrics.'});
    const metric = COLUMN.has(state.get('metric')) ? state.get('metric') : E.default_metric;
    const viz = state.get('viz', E.slices.length >= HISTOGRAM_FROM_SLICES ? 'histogram' : 'overview');
    const minCount = Number(state.get('min', '0')) || 0;
    const range = parseRange(state.get('range'));
    const counted = minCount > 0 ? E.slices.filter(row => columnValue(row, E.count_column) >= minCount) : E.slices;
    const shown = range ? counted.filter(row => inRange(columnValue(row, metric), range)) : counted;
    const metricOptions = E.columns.map(c => [c.id, c.id]);
    const controls = el('div', {class: 'controls'}, [
      labelled('Metric', select('metric', metricOptions, metric, e => state.set({metric: e.target.value, range: null}))),
      labelled('Visualization', select('viz', [['overview', 'Slice overview'], ['histogram', 'Metric histogram']], viz)),
      viz === 'overview' ? labelled('Order by', select('order', [['slice', 'slice name']].concat(metricOptions),
        state.get('order', 'slice'), e => state.set({order: e.target.value, sort: null, page: null}))) : null,
      viz === 'histogram' ? labelled('Buckets', numberInput('buckets', state.get('buckets', '10'), {min: 1, max: 200})) : null,
      viz === 'histogram' ? labelled('Log scale', el('input', {type: 'checkbox', name: 'log', checked: state.get('log') === '1',
        onchange: e => state.set({log: e.target.checked ? '1' : null})})) : null,
      E.count_column ? labelled('Min. ' + E.count_column, numberInput('min', minCount || '', {min: 0, placeholder: '0'})) : null,
      labelled(metric + ' from', numberInput('from', range ? range[0] : '', {step: 'any',
        onchange: e => setRange(0, e.target.value, range, metric)})),
      labelled('to', numberInput('to', range ? range[1] : '', {step: 'any',
        onchange: e => setRange(1, e.target.value, range, metric)})),
      range ? el('button', {text: 'Clear range', onclick: () => state.set({range: null, page: null})}) : null,
    ]);
    return el('section', {}, [
      simpleModels(),
      controls,
      el('p', {class: 'summary', text: `${shown.length} of ${E.slices.length} slices shown` +
        (viz === 'histogram' ? ' (drag across the histogram to keep a range of values)' : '')}),
      viz === 'histogram' ? histogram(counted, metric, range) : overview(shown, metric, state.get('order', 'slice')),
      columnChooser(metric),
      metricsTable(shown, metric, viz === 'overview' ? state.get('order', 'slice') : 'slice'),
      crossSlices(metric),
    ]);
  }

  /* The simpler-model check (simple_model.json): the candidate's score beside simple interpretable
   * models' on the same held-out examples, one line; opened, what those models learned. */
  const SIMPLE_MODELS = {logistic_regression: 'Logistic regression', linear_regression: 'Linear regression',
                         decision_tree: 'Decision tree'};
  const SIMPLE_METRICS = {auc: 'AUC', accuracy: 'accuracy', log_loss: 'log loss', rmse: 'RMSE', mae: 'MAE'};

  function simpleModels() {
    const S = E.simple_model;
    if (!S) return null;
    const scores = S.models.map(m => [' · ', `${SIMPLE_MODELS[m.name] || m.name} ${fmt(m.score)} `,
      el('span', {class: m.candidate_lead > 0 ? 'ahead' : 'behind',
                  text: `(candidate ${m.candidate_lead > 0 ? '+' : ''}${fmt(m.candidate_lead)})`})]);
    const metric = SIMPLE_METRICS[S.metric] || S.metric;
    const linear = S.models.find(m => m.coefficients);
    const tree = S.models.find(m => m.rules);
    return el('details', {class: 'simple-models', open: ui.simpleOpen, ontoggle: e => { ui.simpleOpen = e.target.open; }}, [
      el('summary', {}, [el('strong', {text: 'Simpler models'}),
        ` · ${metric} on ${S.held_out_examples} held-out examples: candidate ${fmt(S.candidate.score)}`, scores]),
      el('p', {class: 'summary', text: `Fitted on ${S.fit_examples} of ${S.sampled} examples sampled from ${S.examples} ` +
        `(seed ${S.seed}); ${S.higher_is_better ? 'higher' : 'lower'} ${metric} is better.` +
        (S.left_out_features.length ? ` Left out (several values in an example): ${S.left_out_features.join(', ')}.` : '')}),
      linear ? coefficients(linear) : null,
      tree ? [el('h3', {text: `Decision tree (depth ${tree.max_depth}, ${tree.leaves} leaves)`}),
              el('pre', {class: 'rules', text: tree.rules})] : null,
    ]);
  }

  /* A linear model's coefficients: one column, or one per class. */
  function coefficients(m) {
    const perClass = Object.values(m.coefficients).some(v => typeof v === 'object');
    const table = perClass ? m.coefficients : {coefficient: m.coefficients};
    const names = Object.keys(table);
    const rows = Object.keys(table[names[0]]).map(f => Object.assign({feature: f}, ...names.map(c => ({[c]: table[c][f]}))));
    const intercept = typeof m.intercept === 'object'
      ? Object.entries(m.intercept).map(([c, v]) => `${c} ${fmt(v)}`).join(', ') : fmt(m.intercept);
    const columns = [{id: 'feature', label: 'Feature', value: r => r.feature}]
      .concat(names.map(c => ({id: c, label: c[0].toUpperCase() + c.slice(1), value: r => r[c]})))
      .concat(perClass ? [] : [{id: 'size', label: '|Coefficient|', value: r => Math.abs(r.coefficient)}]);
    return [el('h3', {text: `${SIMPLE_MODELS[m.name] || m.name}: coefficients (intercept ${intercept})`}),
      el('p', {class: 'summary', text: 'Per standard deviation of a numeric feature; for a category (feature=value), when present.'}),
      dataTable(columns, rows, {name: 'coefficients', caption: `${SIMPLE_MODELS[m.name]}'s coefficients`,
        sortKey: 'csort', pageKey: 'cpage', defaultSort: perClass ? '' : '-size'})];
  }

  /* Cross slices ("A minus B"): each metric's value on slice A less its value on slice B. */
  function crossSlices(metric) {
    const rows = E.cross_slices || [];
    if (!rows.length) return null;
    const i = COLUMN.get(metric);
    const columns = [{id: 'slice', label: 'Cross slice (A minus B)', value: row => row.name, title: row => row.error || row.name}]
      .concat(visibleColumns(metric).map(id => ({id: id, label: id + ' difference', value: row => row.values[COLUMN.get(id)]})));
    return el('section', {class: 'cross-slices'}, [
      el('h2', {text: 'Cross slices'}),
      el('p', {class: 'summary', text: `${rows.length} comparisons of two slices: each value is slice A's less slice B's ` +
                                       '(0: the same on both).'}),
      chart('cross-slices', `${metric}: slice A minus slice B`, [{
        type: 'bar', orientation: 'h', y: rows.map(row => plotText(row.name)), x: rows.map(row => row.values[i]),
        customdata: rows.map(row => row.name), hovertemplate: '%{y}: %{x}<extra></extra>',
        marker: {color: rows.map(row => (row.values[i] < 0 ? '#d93025' : '#1a73e8'))}}],
      {yaxis: {type: 'category', automargin: true, autorange: 'reversed'}, xaxis: {title: {text: plotText(metric + ' difference')}, zeroline: true},
       height: Math.max(200, 26 * rows.length + 110)}),
      dataTable(columns, rows, {name: 'cross-slices', caption: 'Cross slices: slice A\'s values less slice B\'s', sortKey: 'xssort', pageKey: 'xspage'}),
    ]);
  }

  function inRange(value, range) {
    return value !== null && value >= range[0] && value <= range[1];
  }

  /* Sets one end of the metric's range (empty: the metric's extreme). */
  function setRange(index, text, range, metric) {
    const bounds = range ? range.slice() : [-Infinity, Infinity];
    bounds[index] = text === '' ? (index ? Infinity : -Infinity) : Number(text);
    const values = E.slices.map(row => columnValue(row, metric)).filter(v => v !== null);
    if (!Number.isFinite(bounds[0])) bounds[0] = Math.min(...values);
    if (!Number.isFinite(bounds[1])) bounds[1] = Math.max(...values);
    state.set({range: bounds.join(','), page: null});
  }

  const SMALL_SLICE = 100; // fewer weighted examples than this: flagged as small (a noisy value)
  const CHECKS = DATA.validation ? DATA.validation.checks : [];

  function countOf(row) {
    return E.count_column ? columnValue(row, E.count_column) : null;
  }

  function isSmall(row) {
    const n = countOf(row);
    return n !== null && n < SMALL_SLICE;
  }

  /* A slice's name with its example count, and a flag if it is small. */
  function sliceLabel(row) {
    const n = countOf(row);
    if (row.error) return `${row.name} (withheld)`;
    return n === null ? row.name : `${row.name} (n=${fmt(n)})` + (n < SMALL_SLICE ? ' ⚠ small' : '');
  }

  /* The bound a check sets on a slice's value of its metric, if any ("≥ 0.5": lower 0.5). */
  function checkBound(check) {
    const t = check.threshold || {};
    if ('lower_bound' in t) return t.lower_bound;
    if ('upper_bound' in t) return t.upper_bound;
    if (check.baseline_value === null || check.baseline_value === undefined) return null;
    if ('absolute' in t) return check.baseline_value + t.absolute;
    if ('relative' in t) return check.baseline_value * (1 + t.relative);
    return null;
  }

  function overview(rows, metric, order) {
    const column = E.columns[COLUMN.get(metric)];
    const sorted = orderRows(rows, order);
    const x = sorted.map(row => plotText(sliceLabel(row)));
    const checks = CHECKS.filter(c => column.check_metric && c.metric === column.check_metric);
    const failed = new Map(checks.filter(c => !c.passed).map(c => [c.slice, c.sentence]));
    const bar = (id, name, color, extra) => Object.assign({
      type: 'bar', name: name, x: x, y: sorted.map(row => columnValue(row, id)),
      customdata: sorted.map(row => [row.name, fmt(countOf(row)), isSmall(row) ? ' (small slice: a noisy value)' : '',
                                     failed.has(row.name) ? '<br>FAILED: ' + plotText(failed.get(row.name)) : '']),
      hovertemplate: `%{customdata[0]}<br>${plotText(name)}: %{y}<br>%{customdata[1]} examples%{customdata[2]}%{customdata[3]}<extra></extra>`,
      error_y: intervalsOf(sorted, id),
    }, extra);
    const candidate = bar(metric, column.baseline_id ? 'candidate' : metric, '#1a73e8', {
      marker: {color: sorted.map(row => (failed.has(row.name) ? '#d93025' : '#1a73e8')),
               opacity: sorted.map(row => (isSmall(row) ? 0.5 : 1)),
               pattern: {shape: sorted.map(row => (failed.has(row.name) ? '/' : '')), fgcolor: '#fff', solidity: 0.4}}});
    const traces = [candidate];
    if (column.baseline_id) traces.push(bar(column.baseline_id, 'baseline', '#9aa0a6', {marker: {color: '#9aa0a6'}}));
    const bounds = sorted.map(row => {
      const c = checks.find(check => check.slice === row.name && checkBound(check) !== null);
      return c ? [checkBound(c), thresholdText(c.threshold)] : [null, ''];
    });
    if (bounds.some(b => b[0] !== null)) {
      traces.push({type: 'scatter', mode: 'markers', name: 'threshold', x: x, y: bounds.map(b => b[0]),
        marker: {symbol: 'line-ew-open', color: '#202124', size: clamp(0.3 * window.innerWidth / Math.max(1, x.length), 8, 80), line: {width: 3, color: '#202124'}},
        customdata: bounds.map(b => plotText(b[1])), hovertemplate: 'threshold %{y}: %{customdata}<extra></extra>'});
    }
    const overall = E.slices.find(row => row.name === 'Overall');
    const overallValue = overall ? columnValue(overall, metric) : null;
    const values = traces.flatMap(t => t.y.flatMap((y, i) => (y === null ? [] : t.error_y
      ? [y, y + (t.error_y.array[i] || 0), y - (t.error_y.arrayminus[i] || 0)] : [y]))).concat([overallValue])
      .filter(v => v !== null && Number.isFinite(v));
    const low = Math.min(...values), high = Math.max(...values), pad = (high - low) * 0.2 || Math.abs(high) * 0.05 || 1;
    const title = metric + ' by slice' + (sorted.some(row => failed.has(row.name) && columnValue(row, metric) !== null)
      ? ' (hatched red: failed a check)' : '');
    return chart('overview', title, traces, {
      barmode: 'group', xaxis: {type: 'category', automargin: true}, height: 460,
      yaxis: {title: {text: plotText(metric)}, range: values.length ? [low - 2 * pad, high + pad] : undefined},
      shapes: overallValue === null ? [] : [{type: 'line', xref: 'paper', x0: 0, x1: 1, y0: overallValue, y1: overallValue,
        line: {dash: 'dash', color: '#5f6368', width: 1}}],
      annotations: overallValue === null ? [] : [{xref: 'paper', x: 0, y: overallValue, xanchor: 'left', yanchor: 'bottom',
        text: `Overall ${fmt(overallValue)}`, showarrow: false, font: {size: 11, color: '#5f6368'}}],
    }, div => E.plots && Object.keys(E.plots).length && div.on('plotly_click', e => showSlice(e.points[0].customdata[0])));
  }

  /* Plotly error bars from the rows' confidence intervals of a column (none without intervals). */
  function intervalsOf(rows, id) {
    const i = COLUMN.get(id);
    if (!rows.some(row => row.intervals[i])) return undefined;
    const value = row => row.values[i];
    return {type: 'data', symmetric: false, color: '#5f6368', thickness: 1,
            array: rows.map(row => (row.intervals[i] ? row.intervals[i][1] - value(row) : null)),
            arrayminus: rows.map(row => (row.intervals[i] ? value(row) - row.intervals[i][0] : null))};
  }

  /* The overview's order ("slice" or a column id, highest first); the table follows it unless sorted. */
  function orderRows(rows, order) {
    return order === 'slice' || !COLUMN.has(order)
      ? sortRows(rows, row => row.name, false) : sortRows(rows, row => columnValue(row, order), true);
  }

  function histogram(rows, metric, range) {
    const buckets = clamp(parseInt(state.get('buckets', '10'), 10) || 10, 1, 200);
    const points = rows.map(row => [columnValue(row, metric), columnValue(row, E.count_column) || 0])
      .filter(([value]) => value !== null && (!range || inRange(value, range)));
    if (!points.length) return el('p', {class: 'empty', text: `No slice shown has a value of ${metric}.`});
    const low = range ? range[0] : points.reduce((m, p) => Math.min(m, p[0]), Infinity);
    const high = range ? range[1] : points.reduce((m, p) => Math.max(m, p[0]), -Infinity);
    const width = (high - low) / buckets || 1;
    const slices = new Array(buckets).fill(0), examples = new Array(buckets).fill(0);
    for (const [value, count] of points) {
      const i = clamp(Math.floor((value - low) / width), 0, buckets - 1);
      slices[i] += 1;
      examples[i] += count;
    }
    const starts = slices.map((_, i) => low + i * width);
    return chart('histogram', 'Slices by ' + metric, [{
      type: 'bar', x: starts.map(start => start + width / 2), y: slices, width: width * 0.95,
      customdata: starts.map((start, i) => [fmt(start), fmt(start + width), fmt(examples[i])]),
      hovertemplate: '[%{customdata[0]}, %{customdata[1]}]: %{y} slices, %{customdata[2]} weighted examples<extra></extra>',
    }], {
      dragmode: 'select', selectdirection: 'h', xaxis: {title: {text: plotText(metric)}},
      yaxis: {title: {text: 'slices'}, type: state.get('log') === '1' ? 'log' : 'linear'},
    }, div => div.on('plotly_selected', event => {
      if (event && event.range && event.range.x) {
        state.set({range: event.range.x.map(x => Number(x.toPrecision(6))).join(','), page: null});
      }
    }));
  }

  /* The table's columns: those chosen, else the candidate's metrics and the shown metric's baseline
   * and diff (the rest on demand, from the chooser). */
  function visibleColumns(metric) {
    const chosen = state.getAll('cols');
    if (chosen !== null) return chosen.filter(id => COLUMN.has(id));
    const shown = E.columns[COLUMN.get(metric)] || {};
    const partners = [shown.baseline_id, shown.diff_id];
    return E.columns.filter(c => c.role === 'candidate' || partners.includes(c.id) || c.id === metric).map(c => c.id);
  }

  function columnChooser(metric) {
    const visible = new Set(visibleColumns(metric));
    const choose = ids => state.set({cols: ids});
    return el('details', {class: 'columns', open: ui.columnsOpen, ontoggle: e => { ui.columnsOpen = e.target.open; }}, [
      el('summary', {text: `Metrics in the table (${visible.size} of ${E.columns.length})`}),
      el('button', {text: 'All', onclick: () => choose(E.columns.map(c => c.id))}),
      el('button', {text: 'None', onclick: () => choose([])}),
      el('div', {class: 'choices'}, E.columns.map(column => el('label', {}, [
        el('input', {type: 'checkbox', name: 'col', value: column.id, checked: visible.has(column.id),
          onchange: e => choose(E.columns.map(c => c.id).filter(id => id === column.id ? e.target.checked : visible.has(id)))}),
        column.id,
      ]))),
    ]);
  }

  function metricsTable(rows, metric, order) {
    const failed = new Set(CHECKS.filter(c => !c.passed).map(c => c.slice));
    const columns = [{id: 'slice', label: 'Slice', value: row => row.name,
                      title: row => row.error || (isSmall(row) ? `${row.name}: a small slice, its values are noisy` : row.name)}]
      .concat(visibleColumns(metric).map(id => {
        const i = COLUMN.get(id);
        return {id: id, label: id, value: row => row.values[i], title: row => (row.intervals[i]
          ? `${row.values[i]} (95% interval ${row.intervals[i][0]} to ${row.intervals[i][1]})` : String(row.values[i]))};
      }));
    return dataTable(columns, rows, {name: 'metrics', caption: `Metrics of the ${rows.length} slices shown`, sortKey: 'sort', pageKey: 'page',
      defaultSort: COLUMN.has(order) && columns.some(c => c.id === order) ? '-' + order : 'slice',
      rowClass: row => [row.error ? 'withheld' : '', failed.has(row.name) ? 'fail' : '', isSmall(row) ? 'small' : ''].join(' ').trim() || null,
      onRow: Object.keys(E.plots).length ? row => showSlice(row.name) : null});
  }

  /* ---------- plots of a slice ---------- */

  function plotsView() {
    const names = Object.keys(E.plots);
    const slice = pickSlice(names);
    const series = E.plots[slice];
    const curves = unique(series.filter(s => s.thresholds || s.calibration).map(s => s.curve_label));
    const curve = curves.includes(state.get('curve')) ? state.get('curve') : curves[0];
    const ofCurve = series.filter(s => s.curve_label === curve);
    const withCurve = ofCurve.filter(s => s.thresholds);
    // The candidate's thresholds are offered; the baseline's matrix is drawn at the nearest of its own.
    const thresholds = withCurve.length ? (withCurve.find(s => s.role === 'candidate') || withCurve[0]).thresholds.threshold : [];
    const threshold = thresholds[nearest(thresholds, Number(state.get('threshold', '0.5')))];
    const controls = el('div', {class: 'controls'}, [
      sliceSelect(names, slice),
      curves.length > 1 ? labelled('Curve', select('curve', curves.map(c => [c, c || 'default']), curve)) : null,
      thresholds.length ? labelled('Confusion matrix threshold',
                                   select('threshold', thresholds.map(t => [String(t), fmt(t)]), String(threshold))) : null,
    ]);
    const charts = [];
    if (withCurve.length) {
      const withRates = withCurve.map(s => [s, rates(s.thresholds)]);
      charts.push(chart('roc', 'ROC curve', withRates.map(([s, r]) => curveTrace(s, r.fpr, r.recall)).concat([DIAGONAL]),
        axes('false positive rate', 'true positive rate (recall)')));
      charts.push(chart('pr', 'Precision-recall curve', withRates.map(([s, r]) => curveTrace(s, r.recall, r.precision)),
        axes('recall', 'precision')));
    }
    const calibrated = ofCurve.filter(s => s.calibration);
    if (calibrated.length) charts.push(calibrationChart(calibrated));
    charts.push(...withCurve.map(s => confusionMatrix(s, threshold)));
    const matrices = series.filter(s => s.class_matrices.length);
    if (matrices.length) charts.push(...matrices.map(classMatrixChart));
    return el('section', {}, [controls, el('div', {class: 'grid'}, charts)]);
  }

  /* TFMA's conventions: precision 1 and rates 0 where undefined. */
  function rates(t) {
    return {fpr: t.fp.map(fp => (t.negatives > 0 ? fp / t.negatives : 0)),
            recall: t.tp.map(tp => (t.positives > 0 ? tp / t.positives : 0)),
            precision: t.tp.map((tp, i) => (tp + t.fp[i] > 0 ? tp / (tp + t.fp[i]) : 1))};
  }

  function curveTrace(series, x, y) {
    return {x: x, y: y, name: series.role, mode: 'lines+markers', marker: {size: 3},
            customdata: series.thresholds.threshold, hovertemplate: 'threshold %{customdata}: (%{x:.3f}, %{y:.3f})'};
  }

  function calibrationChart(calibrated) {
    const traces = calibrated.map(s => {
      const c = s.calibration;
      const largest = Math.max(...c.weight);
      return {x: c.prediction.map((p, i) => p / c.weight[i]), y: c.label.map((l, i) => l / c.weight[i]),
        name: s.role, mode: 'markers', marker: {size: c.weight.map(w => 6 + 14 * Math.sqrt(w / largest))},
        customdata: c.weight, hovertemplate: 'mean prediction %{x:.3f}, mean label %{y:.3f}, %{customdata} weighted examples'};
    });
    return chart('calibration', 'Calibration', traces.concat([DIAGONAL]),
      {xaxis: {title: {text: 'mean prediction'}}, yaxis: {title: {text: 'mean label'}}});
  }

  function nearest(values, target) {
    return values.reduce((best, v, i) => (Math.abs(v - target) < Math.abs(values[best] - target) ? i : best), 0);
  }

  function confusionMatrix(series, threshold) {
    const t = series.thresholds, i = nearest(t.threshold, threshold);
    const z = [[Math.max(t.negatives - t.fp[i], 0), t.fp[i]], [Math.max(t.positives - t.tp[i], 0), t.tp[i]]];
    const at = t.threshold[i] === threshold ? `threshold ${fmt(threshold)}`
      : `threshold ${fmt(t.threshold[i])} (the nearest to ${fmt(threshold)} on its curve)`;
    return chart('confusion-' + series.role, `Confusion matrix, ${series.role}, ${at}`, [{
      type: 'heatmap', z: z, x: ['predicted 0', 'predicted 1'], y: ['actual 0', 'actual 1'], colorscale: HEAT,
      showscale: false, text: z.map(r => r.map(fmt)), texttemplate: '%{text}'}],
    {yaxis: {autorange: 'reversed', automargin: true}});
  }

  function classMatrixChart(series) {
    const matrix = series.class_matrices[0];
    const classes = unique(matrix.actual.concat(matrix.predicted)).sort((a, b) => a - b);
    const position = new Map(classes.map((c, i) => [c, i]));
    const z = classes.map(() => classes.map(() => 0));
    matrix.weight.forEach((w, i) => { z[position.get(matrix.actual[i])][position.get(matrix.predicted[i])] += w; });
    const names = classes.map(c => (c < 0 ? 'none' : 'class ' + c));
    return chart('classes-' + series.role, `Multi-class confusion matrix, ${series.role}, threshold ${fmt(matrix.threshold)}`, [{
      type: 'heatmap', z: z, x: names.map(n => 'predicted ' + n), y: names.map(n => 'actual ' + n),
      colorscale: HEAT, showscale: false, text: z.map(r => r.map(fmt)), texttemplate: classes.length <= 20 ? '%{text}' : '',
    }], {yaxis: {autorange: 'reversed', automargin: true}, height: Math.max(340, 30 * classes.length)});
  }

  /* ---------- explanations ---------- */

  /* The candidate's attributions beside the baseline's on a slice (error bars: the standard error of
   * mean |attribution| over the explained rows), the top k features the gate compares highlighted. */
  /* The first top-k gate on the features' attributions (a gate with a method is on its tokens or maps). */
  function featureGate() {
    return CHECKS.find(c => c.kind === 'attribution' && c.threshold && c.threshold.top_k_overlap && !c.threshold.method);
  }

  /* The attribution gates' checks on the given image or text methods, each its sentence, failed first. */
  function methodGates(methods) {
    const checks = CHECKS.filter(c => c.kind === 'attribution' && c.threshold && methods.includes(c.threshold.method))
      .sort((a, b) => a.passed - b.passed);
    if (!checks.length) return null;
    const failed = checks.filter(c => !c.passed).length;
    return el('div', {class: 'method-gates'}, [
      el('p', {class: 'summary', text: `Attribution gates on these methods: ${failed ? `${failed} of ${checks.length} checks FAILED` : `${checks.length} checks, none failed`}.`}),
      el('ul', {}, checks.map(c => el('li', {class: c.skipped ? 'skipped' : c.passed ? 'pass' : 'fail',
        text: `${c.skipped ? 'Skipped' : c.passed ? 'Passed' : 'FAILED'}: ${c.sentence}`})))]);
  }

  /* An attribution metric (the one wanted, else mean |attribution|) of the candidate and the baseline. */
  function attributionsOf(wanted) {
    const names = unique(E.attributions.map(a => a.name || a.metric));
    const name = names.includes(wanted) ? wanted : names.find(n => n.includes('absolute')) || names[0];
    const ofName = E.attributions.filter(a => (a.name || a.metric) === name);
    const candidate = ofName.find(a => a.role !== 'baseline') || ofName[0];
    return {names, name, candidate, baseline: ofName.find(a => a.role === 'baseline' && a !== candidate)};
  }

  function attributionsSection() {
    const S = E.explanation_summary;
    const {names, name, candidate, baseline} = attributionsOf(state.get('attribution'));
    const slice = pickSlice(Object.keys(candidate.by_slice));
    const values = candidate.by_slice[slice] || {}, old = baseline ? baseline.by_slice[slice] || {} : {};
    const features = unique(Object.keys(values).concat(Object.keys(old)))
      .sort((a, b) => compare(values[a], values[b], true));
    const shift = S ? S.shift.find(r => r.slice === slice) : null;
    const gate = featureGate();
    const k = gate ? gate.threshold.top_k_overlap.k : shift ? shift.top_k : 0;
    const topOf = map => Object.keys(map).sort((a, b) => compare(map[a], map[b], true)).slice(0, k);
    const candidateTop = new Set(shift && shift.top_k === k && shift.candidate_top_k.length ? shift.candidate_top_k : topOf(values));
    const baselineTop = new Set(shift && shift.top_k === k && shift.baseline_top_k.length ? shift.baseline_top_k : topOf(old));
    const shown = features.slice(0, 20).reverse();
    const errors = role => {
      const se = (S && S.standard_errors[role] && S.standard_errors[role][slice]) || null;
      return se && name.includes('absolute') ? {type: 'data', array: shown.map(f => se[f]), color: '#5f6368', thickness: 1} : undefined;
    };
    const label = f => plotText((k && candidateTop.has(f) ? '★ ' : '') + f);
    const trace = (series, role, color, top) => ({
      type: 'bar', orientation: 'h', name: role, x: shown.map(f => series[f] === undefined ? null : series[f]), y: shown.map(label),
      error_x: errors(role), marker: {color: color, line: {color: '#202124', width: shown.map(f => (top.has(f) ? 2 : 0))}},
      customdata: shown, hovertemplate: `${role} %{customdata}: %{x}<extra></extra>`});
    const traces = [trace(values, 'candidate', '#1a73e8', candidateTop)];
    if (baseline) traces.push(trace(old, 'baseline', '#9aa0a6', baselineTop));
    const shared = [...candidateTop].filter(f => baselineTop.has(f));
    const topText = k ? `Top ${k}${gate ? ' (as the attribution gate compares them)' : ''}: candidate ${[...candidateTop].join(', ')}` +
      (baseline ? `; baseline ${[...baselineTop].join(', ')}; ${shared.length} of ${k} shared` +
                  (gate ? ` (the gate requires ≥ ${gate.threshold.top_k_overlap.min_overlap}: ${gate.passed ? 'passed' : 'FAILED'})` : '') : '') +
      '. ★ and outlined bars: the top features.' : '';
    return [el('h2', {text: 'Attributions'}), el('div', {class: 'controls'}, [
        names.length > 1 ? labelled('Attribution', select('attribution', names.map(n => [n, n]), name)) : null,
        sliceSelect(Object.keys(candidate.by_slice), slice)]),
      topText ? el('p', {class: 'summary top-k', text: topText}) : null,
      chart('attributions', `${name} on ${slice}: ` + (baseline ? 'candidate beside baseline' : 'candidate'), traces,
        {barmode: 'group', yaxis: {type: 'category', automargin: true}, height: Math.max(340, (baseline ? 34 : 22) * shown.length + 100)}),
      dataTable([{id: 'feature', label: 'Feature', value: f => f},
                 {id: 'value', label: 'candidate', value: f => (f in values ? values[f] : null)}].concat(baseline ? [
                 {id: 'baseline', label: 'baseline', value: f => (f in old ? old[f] : null)},
                 {id: 'change', label: 'change', value: f => (f in values && f in old ? values[f] - old[f] : null)}] : []),
        features, {name: 'attributions', caption: `${name} per feature on ${slice}`, sortKey: 'asort', pageKey: 'apage', defaultSort: '-value',
                   rowClass: f => (candidateTop.has(f) ? 'top' : null)})];
  }

  /* Partial dependence of a feature on a slice: each model's PDP (bold, the mean over the slice's
   * explained rows) over the ICE curves of the slice's first rows (thin), candidate and baseline. */
  const MODEL_COLORS = {candidate: '#1a73e8', baseline: '#e37400'};

  function partialDependenceSection() {
    const P = E.partial_dependence;
    const features = Object.keys(P.features);
    const feature = features.includes(state.get('pdfeature')) ? state.get('pdfeature') : features[0];
    const slice = pickSlice(Object.keys(P.slices));
    const grid = P.features[feature].grid, ids = P.slices[slice].ice_ids;
    const roles = Object.keys(P.models);
    const color = role => MODEL_COLORS[role] || '#5f6368';
    const traces = roles.flatMap(role => ids.map((id, i) => ({
      x: grid, y: P.models[role].features[feature].ice[id], mode: 'lines', name: `${role} ICE (${ids.length} rows)`,
      legendgroup: `${role}-ice`, showlegend: i === 0, opacity: 0.3, line: {color: color(role), width: 1},
      hovertemplate: `${role}, row ${id}: %{y} at ${plotText(feature)} %{x}<extra></extra>`})));
    roles.forEach(role => traces.push({
      x: grid, y: P.models[role].features[feature].pdp[slice], mode: 'lines+markers', name: `${role} PDP`,
      line: {color: color(role), width: 4}, marker: {size: 6},
      hovertemplate: `${role} PDP: %{y} at ${plotText(feature)} %{x}<extra></extra>`}));
    const pdp = role => P.models[role].features[feature].pdp[slice];
    return el('div', {'data-section': 'partial-dependence'}, [
      el('h2', {text: 'Partial dependence'}),
      el('div', {class: 'controls'}, [
        labelled('Feature', select('pdfeature', features.map(f => [f, f]), feature)),
        sliceSelect(Object.keys(P.slices), slice)]),
      el('p', {class: 'summary', text: `The model's score with ${feature} set to each value, every other feature kept: ` +
        `the mean over the ${P.slices[slice].rows} explained rows of ${slice} (PDP, bold) and the curves of ${ids.length} ` +
        'of them (ICE, thin). A PDP averages over combinations the data may not hold; it is not a causal effect.'}),
      chart('partial-dependence', `Partial dependence on ${feature}, ${slice}`, traces,
        {xaxis: {title: {text: feature}, automargin: true}, yaxis: {title: {text: 'score'}, automargin: true}}),
      dataTable([{id: 'value', label: feature, value: i => grid[i]}].concat(
        roles.map(role => ({id: role, label: `${role} PDP`, value: i => pdp(role)[i]}))),
        grid.map((_, i) => i), {name: 'partial-dependence', caption: `PDP per value of ${feature} on ${slice}`,
                                sortKey: 'pdsort', pageKey: 'pdpage'})]);
  }

  function explanationsView() {
    const parts = [];
    if (E.attributions.length) parts.push(attributionsSection());
    if (E.partial_dependence) parts.push(partialDependenceSection());
    if (E.surrogate) {
      const fidelity = Object.entries(E.surrogate.fidelity);
      const measures = unique(fidelity.flatMap(([, values]) => Object.keys(values)));
      parts.push(el('h2', {text: 'Global surrogate'}), el('pre', {class: 'rules', text: E.surrogate.rules}),
        el('h3', {text: 'Fidelity to the model, per slice'}),
        dataTable([{id: 'slice', label: 'Slice', value: f => f[0]}].concat(
          measures.map(m => ({id: m, label: m, value: f => (m in f[1] ? f[1][m] : null)}))),
        fidelity, {name: 'fidelity', caption: 'The global surrogate\'s fidelity to the model, per slice', sortKey: 'fsort', pageKey: 'fpage'}));
    }
    const S = E.explanation_summary;
    if (S) {
      const column = (id, label) => ({id: id, label: label, value: r => r[id]});
      parts.push(el('h2', {text: 'Explanation summary'}), el('h3', {text: 'Accuracy each method states'}),
        dataTable([column('model', 'Model'), column('method', 'Method'), column('accuracy', 'Accuracy')],
          S.accuracy, {name: 'accuracy', caption: 'The accuracy each explanation method states', sortKey: 'xsort', pageKey: 'xpage'}));
      if (S.shift.length) {
        parts.push(el('h3', {text: 'Attribution shift from the baseline, per slice'}),
          dataTable([column('slice', 'Slice'), column('attribution_shift', 'Attribution shift'),
                     {id: 'top_k_overlap', label: 'Top-k overlap', value: r => r.top_k_overlap, text: r => `${r.top_k_overlap} of ${r.top_k}`}],
            S.shift, {name: 'shift', caption: 'Attribution shift from the baseline, per slice', sortKey: 'ssort', pageKey: 'spage'}));
      }
      if (S.permutation.length) {
        parts.push(el('h3', {text: 'Permutation importance (worsening of the metric), per slice'}),
          dataTable([column('model', 'Model'), column('slice', 'Slice'), column('feature', 'Feature'),
                     column('metric', 'Metric'), column('mean', 'Mean'), column('std', 'Std')],
            S.permutation, {name: 'permutation', caption: 'Permutation importance per slice and feature', sortKey: 'psort', pageKey: 'ppage', defaultSort: '-mean'}));
      }
    }
    return el('section', {}, parts);
  }

  /* ---------- explained rows (What-If inspection) ---------- */

  const EXAMPLE_FEATURE_COLUMNS = 6; // the table's feature columns: the most attributed features
  const EXAMPLE_SORTS = [['-error', 'largest error'], ['-disagreement', 'largest disagreement'],
                         ['-prediction', 'highest prediction'], ['prediction', 'lowest prediction']];

  /* The explained rows of a slice: label, each model's prediction, the candidate's error and the
   * models' disagreement, the features of largest mean |attribution|. A row (click, or Enter) opens
   * its feature values, both predictions and every local method's attributions. */
  function examplesView() {
    const X = E.examples;
    const b = X.models.findIndex(m => m.role === 'baseline');
    const hasLabel = X.rows.some(r => r.label !== null);
    const slice = X.slices.includes(state.get('slice')) ? state.get('slice') : ''; // '': every explained row
    const rows = slice ? X.rows.filter(r => r.slices.includes(X.slices.indexOf(slice))) : X.rows;
    const where = slice ? `on ${slice}` : `drawn for the ${X.slices.length} slices`;
    const error = r => (r.label === null || r.predictions[0] === null ? null : Math.abs(r.predictions[0] - r.label));
    const disagreement = r => (b < 0 || r.predictions[b] === null || r.predictions[0] === null ? null
      : Math.abs(r.predictions[0] - r.predictions[b]));
    const columns = [{id: 'id', label: 'Row', value: r => r.id},
      hasLabel ? {id: 'label', label: 'Label', value: r => r.label} : null,
      {id: 'prediction', label: 'Candidate', value: r => r.predictions[0]},
      b >= 0 ? {id: 'baseline', label: 'Baseline', value: r => r.predictions[b]} : null,
      hasLabel ? {id: 'error', label: '|Candidate − label|', value: error} : null,
      b >= 0 ? {id: 'disagreement', label: '|Candidate − baseline|', value: disagreement} : null,
    ].filter(c => c).concat(rankedFeatures(X).slice(0, EXAMPLE_FEATURE_COLUMNS).map(f => {
      const i = X.features.indexOf(f);
      return {id: 'f:' + f, label: f, value: r => r.values[i], title: r => String(r.values[i])};
    }));
    const sorts = EXAMPLE_SORTS.filter(([spec]) => columns.some(c => c.id === spec.replace('-', '')));
    const sort = state.get('esort', sorts[0][0]);
    const open = X.rows.find(r => r.id === state.get('row'));
    const left = X.total - X.rows.length;
    return el('section', {}, [
      el('div', {class: 'controls'}, [labelled('Slice', select('slice', [['', 'All explained rows']].concat(X.slices.map(n => [n, n])), slice,
          e => state.set({slice: e.target.value, epage: null}))),
        labelled('Sort by', select('esort', sorts.some(([spec]) => spec === sort) ? sorts : sorts.concat([[sort, 'the column chosen']]), sort,
          e => state.set({esort: e.target.value, epage: null})))]),
      el('p', {class: 'summary', text: `${rows.length} explained rows ${where}` +
        (left ? `; this page carries ${X.rows.length} of the evaluation's ${X.total} explained rows (${left} left out)` : '') +
        '. Open a row (click, or Enter) for its feature values and attributions.'}),
      open ? exampleDetail(X, open, b) : null,
      dataTable(columns, rows, {name: 'examples', caption: `Explained rows ${where}`, sortKey: 'esort', pageKey: 'epage',
        defaultSort: sorts[0][0], rowKey: r => r.id, rowClass: r => (r === open ? 'link open' : 'link'),
        onRow: r => state.set({row: r === open ? null : r.id})}),
    ]);
  }

  /* The features by the candidate's first method's mean |attribution| over the rows, unattributed last. */
  function rankedFeatures(X) {
    const method = X.models[0].methods[0];
    if (!method) return X.features;
    const mean = {};
    method.groups.forEach((g, j) => { mean[g] = X.rows.reduce((sum, r) => sum + Math.abs(r.attributions[0][0][j] || 0), 0); });
    return X.features.slice().sort((a, c) => compare(mean[a], mean[c], true));
  }

  /* A row: its slices, label and predictions, each model's attributions by the method chosen (bars,
   * the largest 20), and every feature's value with every method's attribution (table). */
  function exampleDetail(X, r, b) {
    const methods = unique(X.models.flatMap(m => m.methods.map(lm => lm.method)));
    const method = methods.includes(state.get('emethod')) ? state.get('emethod') : methods[0];
    const of = (m, name) => {
      const j = m.methods.findIndex(lm => lm.method === name);
      const model = X.models.indexOf(m);
      return j < 0 ? null : Object.fromEntries(m.methods[j].groups.map((g, k) => [g, r.attributions[model][j][k]]));
    };
    const charted = X.models.map(m => [m, of(m, method)]).filter(([, a]) => a);
    const groups = unique(charted.flatMap(([, a]) => Object.keys(a)))
      .sort((g, h) => compare(Math.max(...charted.map(([, a]) => Math.abs(a[g] || 0))), Math.max(...charted.map(([, a]) => Math.abs(a[h] || 0))), true))
      .slice(0, 20).reverse();
    const traces = charted.map(([m, a]) => ({type: 'bar', orientation: 'h', name: m.role, y: groups.map(plotText),
      x: groups.map(g => (g in a ? a[g] : null)), marker: {color: m.role === 'baseline' ? '#9aa0a6' : '#1a73e8'},
      customdata: groups, hovertemplate: `${m.role} %{customdata}: %{x}<extra></extra>`}));
    const sums = charted.map(([m, a]) => {
      const base = m.methods.find(lm => lm.method === method).base_value;
      const total = Object.values(a).reduce((sum, v) => sum + (v || 0), 0);
      return `${m.role}: base value ${fmt(base)} + attributions ${fmt(total)} = ${fmt(base === null ? null : base + total)} ` +
             `(prediction ${fmt(r.predictions[X.models.indexOf(m)])})`;
    });
    const attributed = X.models.flatMap(m => m.methods.map(lm => [m, lm.method, of(m, lm.method)]));
    const names = unique(X.features.concat(attributed.flatMap(([, , a]) => Object.keys(a))));
    const columns = [{id: 'feature', label: 'Feature', value: f => f},
      {id: 'value', label: 'Value', value: f => (X.features.includes(f) ? r.values[X.features.indexOf(f)] : null),
       title: f => String(X.features.includes(f) ? r.values[X.features.indexOf(f)] : '')}]
      .concat(attributed.map(([m, name, a]) => ({id: `${m.role}:${name}`, label: `${m.role} ${name}`, value: f => (f in a ? a[f] : null)})));
    const shown = [['Slices', r.slices.map(i => X.slices[i]).join(', ')], ['Label', fmt(r.label)]]
      .concat(X.models.map((m, i) => [`${m.role[0].toUpperCase() + m.role.slice(1)} prediction`,
        fmt(r.predictions[i]) + (m.name && m.name !== m.role ? ` (${m.name})` : '')]));
    if (b >= 0 && r.predictions[0] !== null && r.predictions[b] !== null) shown.push(['Difference', fmt(r.predictions[0] - r.predictions[b])]);
    return el('div', {class: 'example', 'data-example': r.id}, [
      el('h2', {}, [`Row ${r.id} `, el('button', {type: 'button', text: 'Close', 'data-focus': 'close-row',
        onclick: () => state.set({row: null})})]),
      facts(shown),
      charted.length ? [el('div', {class: 'controls'}, [methods.length > 1 ? labelled('Method', select('emethod', methods.map(n => [n, n]), method)) : null]),
        el('p', {class: 'summary', text: sums.join('; ')}),
        chart('example-attributions', `${method} attributions of row ${r.id}`, traces,
          {barmode: 'group', yaxis: {type: 'category', automargin: true}, xaxis: {zeroline: true},
           height: Math.max(260, (charted.length > 1 ? 30 : 20) * groups.length + 110)})] : null,
      dataTable(columns, names, {name: 'example-features', caption: `Feature values and attributions of row ${r.id}`,
        sortKey: 'efsort', pageKey: 'efpage'}),
      whatIf(X, r),
      X.models.map((m, i) => counterfactual(m, (r.counterfactuals || [])[i])),
    ]);
  }

  /* What if: a feature of the row set to a value of its partial-dependence grid, every other
   * feature kept, and each model's prediction of that changed row. The predictions are the models'
   * own, computed in the evaluation: the row's ICE curves (explanations.json); one feature changes
   * at a time. Each feature's control is a labelled select (arrow keys step through the grid). */
  const ICE_DIGITS = 4; // glassbox.report.examples.ICE_DIGITS

  function whatIf(X, r) {
    const P = E.partial_dependence;
    const ice = r.ice || [];
    const models = X.models.map((m, i) => [m, i]).filter(([, i]) => ice[i]);
    if (!P) return null;
    if (!models.length) {
      return X.ice_rows ? el('p', {class: 'summary', text: `What if: this page carries the ICE curves of ${X.ice_rows} of its ` +
        `${X.rows.length} rows, not this one's; call glassbox.explain.what_if.what_if with the models to try a feature change.`}) : null;
    }
    const features = Object.keys(P.features).filter(f => models.some(([, i]) => f in ice[i]));
    const value = f => (X.features.includes(f) ? r.values[X.features.indexOf(f)] : null);
    const chosen = features.includes(state.get('wif')) ? state.get('wif') : null;
    const grid = f => P.features[f].grid;
    const index = chosen === null ? -1 : clamp(parseInt(state.get('wiv'), 10) || 0, 0, grid(chosen).length - 1);
    const at = (f, i, k) => (f === chosen && k >= 0 && f in ice[i] ? ice[i][f][k] : null);
    // The curves carry 4 significant digits: a change is from the prediction to as many.
    const original = i => (r.predictions[i] === null ? null : Number(r.predictions[i].toPrecision(ICE_DIGITS)));
    const change = (f, i) => {
      const v = at(f, i, index);
      return v === null || original(i) === null ? null : v - original(i);
    };
    const signed = v => (v === null ? '–' : (v > 0 ? '+' : v < 0 ? '−' : '±') + fmt(Math.abs(v)));
    const control = f => el('select', {name: 'wi:' + f, 'aria-label': `Set ${f} to`,
      onchange: e => state.set({wif: e.target.value === '' ? null : f, wiv: e.target.value === '' ? null : e.target.value})},
      [el('option', {value: '', selected: f !== chosen, text: `as is: ${fmt(value(f))}`})].concat(
        grid(f).map((g, k) => el('option', {value: String(k), selected: f === chosen && k === index, text: fmt(g)}))));
    const columns = [{id: 'feature', label: 'Feature', value: f => f},
      {id: 'set', label: 'Set to', value: f => f, text: control}]
      .concat(models.flatMap(([m, i]) => [
        {id: m.role, label: m.role[0].toUpperCase() + m.role.slice(1), value: f => at(f, i, index)},
        {id: `${m.role}-change`, label: 'Change', value: f => change(f, i), text: f => signed(change(f, i))}]))
      .concat([{id: 'ice', label: 'ICE', value: f => f, text: f => iceLine(f, grid(f), models.map(([m, i]) => [m.role, ice[i][f]]), f === chosen ? index : -1, value(f))}]);
    const said = chosen === null
      ? 'Set a feature to a value of its grid to see both models\' predictions of the changed row.'
      : `With ${chosen} set to ${fmt(grid(chosen)[index])} (this row: ${fmt(value(chosen))}), every other feature kept: ` +
        models.map(([m, i]) => `${m.role} ${fmt(at(chosen, i, index))} (${signed(change(chosen, i))} from ${fmt(original(i))})`).join('; ') + '.';
    return [el('h3', {text: 'What if: one feature changed'}),
      el('p', {class: 'summary', 'data-what-if': chosen || '', 'aria-live': 'polite', text: said}),
      el('p', {class: 'summary', text: 'The values are the models\' own predictions of the changed row, computed in the evaluation (the row\'s ICE ' +
        'curves on the partial-dependence grid). For another value or several changes at once, call glassbox.explain.what_if.what_if with the models.'}),
      dataTable(columns, features, {name: 'what-if', caption: `Row ${r.id} with one feature set to a value of its grid`, sortKey: 'wisort', pageKey: 'wipage'})];
  }

  /* A row's ICE curves of a feature, one line per model, the chosen grid value marked and the row's own value ticked. */
  function iceLine(feature, grid, curves, chosen, own) {
    const width = 96, height = 28, pad = 3;
    const svg = (tag, attributes) => {
      const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
      Object.entries(attributes).forEach(([k, v]) => node.setAttribute(k, v));
      return node;
    };
    const numeric = grid.every(g => typeof g === 'number');
    const xs = numeric ? grid : grid.map((_, k) => k);
    const ys = curves.flatMap(([, c]) => c).filter(v => v !== null);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const x = v => pad + (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5) * (width - 2 * pad);
    const y = v => height - pad - (y1 > y0 ? (v - y0) / (y1 - y0) : 0.5) * (height - 2 * pad);
    const node = svg('svg', {width: width, height: height, role: 'img', class: 'ice-line',
      'aria-label': curves.map(([role, c]) => `${role} ICE on ${feature}: ${fmt(Math.min(...c))} to ${fmt(Math.max(...c))}`).join('; ')});
    if (numeric && typeof own === 'number' && own >= x0 && own <= x1) {
      node.append(svg('line', {x1: x(own), x2: x(own), y1: 0, y2: height, stroke: '#bdc1c6', 'stroke-dasharray': '2 2'}));
    }
    curves.forEach(([role, c]) => {
      const color = MODEL_COLORS[role] || '#5f6368';
      node.append(svg('polyline', {fill: 'none', stroke: color, 'stroke-width': 1.5,
        points: c.map((v, k) => (v === null ? '' : `${x(xs[k]).toFixed(1)},${y(v).toFixed(1)}`)).join(' ')}));
      if (chosen >= 0 && c[chosen] !== null) node.append(svg('circle', {cx: x(xs[chosen]), cy: y(c[chosen]), r: 3, fill: color}));
    });
    return node;
  }

  /* A model's counterfactual of a row: the nearest drawn example of another outcome, and the features that differ. */
  function counterfactual(m, c) {
    if (c === undefined) return null;
    if (c === null) return el('p', {class: 'summary', text: `${m.role}: no drawn example has another outcome (no counterfactual).`});
    const changes = Object.entries(c.changes);
    return [el('h3', {text: `Counterfactual (${m.role}): the nearest drawn example with outcome ${c.outcome} (this row: ${c.row_outcome})`}),
      el('p', {class: 'summary', text: `Distance ${fmt(c.distance)}; its prediction ${fmt(c.prediction)}; ${changes.length} features differ.`}),
      dataTable([{id: 'feature', label: 'Feature', value: e => e[0]}, {id: 'from', label: 'This row', value: e => e[1].from},
                 {id: 'to', label: 'Counterfactual', value: e => e[1].to}],
        changes, {name: `counterfactual-${m.role}`, caption: `The features in which the ${m.role}'s counterfactual differs`,
                  sortKey: `cf${m.role[0]}sort`, pageKey: `cf${m.role[0]}page`})];
  }

  /* ---------- drift ---------- */

  const DISTANCES = [['psi', 'PSI'], ['jensen_shannon', 'Jensen-Shannon'], ['l_infinity', 'L-infinity'],
                     ['wasserstein', 'Wasserstein'], ['kolmogorov_smirnov', 'Kolmogorov-Smirnov']];
  const SHORT = {psi: 'PSI', jensen_shannon: 'JS', l_infinity: 'L∞', wasserstein: 'W1', kolmogorov_smirnov: 'KS'};
  const DRIFT_CHECKS = CHECKS.filter(c => c.kind === 'drift');

  /* The drift gates' checks of an entry (feature or prediction) on a slice. */
  function driftChecks(slice, name) {
    return DRIFT_CHECKS.filter(c => c.slice === slice && c.threshold && c.metric === `${c.threshold.distance} of ${name}`);
  }

  /* Per slice, each feature's and the predictions' distances from the reference; sorted by the drift
   * gate's distance (else PSI), the most drifting first; entries failing a drift gate marked ✗. */
  /* ---------- explained images and texts (glassbox.report.gallery) ---------- */

  const bytesOf = text => Uint8Array.from(atob(text), c => c.charCodeAt(0));
  const classText = value => (value === null || value === undefined ? '–' : String(Number(value)));
  const signed = value => (value > 0 ? '+' : '') + fmt(value);
  // An attribution's colour: red raises the explained class's score, blue lowers it; v in [-1, 1].
  const heat = (v, alpha) => `rgba(${v >= 0 ? '217,48,37' : '26,115,232'},${(Math.min(Math.abs(v), 1) * alpha).toFixed(3)})`;

  /* The filters both views share (slice, true class, predicted class and correctness by a model),
   * kept under the state keys prefix + name; returns the controls and the rows they keep. */
  function galleryFilters(G, prefix) {
    const key = name => prefix + name;
    const model = G.roles.includes(state.get(key('model'))) ? state.get(key('model')) : G.roles[0];
    const labelled_ = G.rows.some(row => row.label !== null && row.label !== undefined);
    const numeric = (a, b) => Number(a) - Number(b);
    const slices = unique(G.rows.flatMap(row => row.slices)).sort((a, b) => (a === 'Overall' ? -1 : b === 'Overall' ? 1 : a.localeCompare(b, undefined, {numeric: true})));
    const classes = unique(G.rows.map(row => classText(row.label))).sort(numeric);
    const predicted = unique(G.rows.map(row => classText(row.predicted[model]))).sort(numeric);
    const pick = (name, values) => (values.includes(state.get(key(name))) ? state.get(key(name)) : '');
    const chosen = {slice: pick('slice', slices), label: pick('class', classes), predicted: pick('pred', predicted),
                    correct: pick('correct', ['yes', 'no'])};
    const isCorrect = row => Number(row.predicted[model]) === Number(row.label);
    const kept = G.rows.filter(row => (!chosen.slice || row.slices.includes(chosen.slice)) &&
      (!chosen.label || classText(row.label) === chosen.label) &&
      (!chosen.predicted || classText(row.predicted[model]) === chosen.predicted) &&
      (!chosen.correct || isCorrect(row) === (chosen.correct === 'yes')));
    const all = text => [['', text]];
    const set = name => e => state.set({[key(name)]: e.target.value, [key('page')]: null});
    const controls = el('div', {class: 'controls'}, [
      labelled('Slice', select(key('slice'), all('All').concat(slices.map(s => [s, s])), chosen.slice, set('slice'))),
      labelled_ ? labelled('True class', select(key('class'), all('All').concat(classes.map(c => [c, c])), chosen.label, set('class'))) : null,
      labelled('Predicted class', select(key('pred'), all('All').concat(predicted.map(c => [c, c])), chosen.predicted, set('pred'))),
      labelled_ ? labelled('Correct', select(key('correct'), [['', 'All'], ['yes', 'Correct'], ['no', 'Wrong']], chosen.correct, set('correct'))) : null,
      G.roles.length > 1 ? labelled('Prediction of', select(key('model'), G.roles.map(r => [r, r]), model, set('model'))) : null,
    ]);
    return {controls: controls, rows: kept, model: model, isCorrect: isCorrect, labelled: labelled_};
  }

  /* What a row's model predicted, against its true class. */
  function verdicts(G, row, labelled_) {
    return (labelled_ ? [`true class ${classText(row.label)}`] : []).concat(G.roles.map(role => {
      const p = row.predicted[role];
      const mark = labelled_ && p !== undefined ? (Number(p) === Number(row.label) ? ' ✓' : ' ✗') : '';
      return `${role} predicts ${classText(p)}${mark}`;
    })).join(' · ');
  }

  function gallerySummary(G, shown, what) {
    const carried = G.per_class === undefined
      ? (G.explained > G.rows.length ? ` (the report carries the first ${G.rows.length} of the ${G.explained} explained)` : '')
      : `; the report carries ${G.rows.length} of ${G.explained} explained ${what}` +
        (G.rows.some(row => row.label !== null && row.label !== undefined)
          ? `, up to ${G.per_class} per true class (within a class, wrong predictions first)` : '');
    return el('p', {class: 'summary', 'data-summary': what, text: `${shown} of ${G.rows.length} ${what} shown${carried}`});
  }

  /* The colour scale of a method's maps or shaded tokens, one for every model shown with it. */
  function scaleLegend(scale, method, roles, zero) {
    const note = roles.length > 1 ? ` (one scale for ${roles.join(' and ')})` : '';
    return el('span', {class: 'scale-legend', 'data-method': method, 'data-scale': scale,
      title: zero ? `every attribution 0${note}` : `full colour at |attribution| ${fmt(scale)}${note}`},
      [zero ? el('span', {text: 'all 0'}) : [el('span', {text: signed(-scale)}), el('span', {class: 'scale-bar', 'aria-hidden': 'true'}),
        el('span', {text: signed(scale)})], el('span', {class: 'sr-only', text: note})]);
  }

  const IMAGE_SIZE = 96; // px of an image's long side on the page

  /* A canvas of the row's thumbnail, with a heat map (quantised cells, see gallery.py) over it. */
  function imageCanvas(G, row, map, label) {
    const t = G.thumbnail;
    const height = t ? t.height : map.height, width = t ? t.width : map.width;
    const zoom = IMAGE_SIZE / Math.max(height, width);
    const canvas = el('canvas', {width: Math.round(width * zoom), height: Math.round(height * zoom), role: 'img', 'aria-label': label, title: label});
    const context = canvas.getContext('2d');
    if (t && row.pixels) {
      const pixels = bytesOf(row.pixels), rgba = new ImageData(width, height);
      for (let i = 0; i < width * height; i++) {
        for (let c = 0; c < 3; c++) rgba.data[4 * i + c] = pixels[i * t.channels + (t.channels === 3 ? c : 0)];
        rgba.data[4 * i + 3] = 255;
      }
      const small = document.createElement('canvas');
      small.width = width; small.height = height;
      small.getContext('2d').putImageData(rgba, 0, 0);
      context.imageSmoothingEnabled = false;
      context.drawImage(small, 0, 0, canvas.width, canvas.height);
    }
    if (map) {
      const cells = new Int8Array(bytesOf(map.cells).buffer);
      const w = canvas.width / map.width, h = canvas.height / map.height;
      for (let r = 0; r < map.height; r++) {
        for (let c = 0; c < map.width; c++) {
          const v = cells[r * map.width + c] / 127;
          if (v === 0) continue;
          context.fillStyle = heat(v, 0.75);
          context.fillRect(Math.floor(c * w), Math.floor(r * h), Math.ceil(w), Math.ceil(h));
        }
      }
    }
    return canvas;
  }

  function imagesView() {
    const G = E.images;
    const legendOf = (row, method) => {
      const drawn = G.roles.filter(role => (row.maps[role] || {})[method]);
      return drawn.length ? el('span', {class: 'legend-cell', style: 'grid-column: 2 / -1'},
        scaleLegend(row.maps[drawn[0]][method].scale, method, drawn, drawn.every(role => !row.maps[role][method].largest))) : null;
    };
    const f = galleryFilters(G, 'i');
    const heading = (row, i) => (f.labelled && (i === 0 || classText(f.rows[i - 1].label) !== classText(row.label))
      ? el('h3', {class: 'gallery-class', text: `True class ${classText(row.label)}: ` +
          `${f.rows.filter(other => classText(other.label) === classText(row.label)).length} shown`}) : null);
    const cards = f.rows.map((row, i) => [heading(row, i), el('figure', {class: 'gallery-item', 'data-row': row.id,
      'data-label': classText(row.label), 'data-correct': f.labelled ? String(f.isCorrect(row)) : null}, [
      el('figcaption', {text: verdicts(G, row, f.labelled)}),
      el('div', {class: 'gallery-maps', style: `grid-template-columns: repeat(${G.roles.length + 1}, auto)`}, [
        el('span'), G.roles.map(role => el('span', {class: 'role', text: role})),
        el('span', {class: 'method-name', text: 'image'}), imageCanvas(G, row, null, `image ${row.id}, ${verdicts(G, row, f.labelled)}`),
        G.roles.slice(1).map(() => el('span')),
        G.methods.map(method => [el('span', {class: 'method-name', text: method}), G.roles.map(role => {
          const m = (row.maps[role] || {})[method];
          if (!m) return el('span', {class: 'empty', text: '–'});
          const label = `${method} map of the ${role} for class ${m.class} (score ${fmt(m.score)}; largest |attribution| ` +
            `${fmt(m.largest)}, full colour at ${fmt(m.scale)})`;
          const canvas = imageCanvas(G, row, m, label);
          canvas.dataset.role = role; canvas.dataset.method = method; canvas.dataset.scale = m.scale;
          return canvas;
        }), legendOf(row, method)]),
      ]),
    ])]);
    return el('section', {}, [
      el('p', {class: 'summary', text: `Image feature ${G.feature}: each explained image, then each method's heat map of the class ` +
        'it explains, over the image: red raises that class\'s score, blue lowers it, the stronger the colour the larger ' +
        '|attribution|; a method\'s maps of an image, candidate\'s and baseline\'s, on one scale (under them: full colour ' +
        'at the larger of their largest |attribution|), so their colours compare.'}),
      methodGates(G.methods), f.controls, gallerySummary(G, f.rows.length, 'images'),
      f.rows.length ? el('div', {class: 'gallery', 'data-gallery': 'images'}, cards) : el('p', {class: 'empty', text: 'No image matches the filters.'}),
    ]);
  }

  const TEXTS_PER_PAGE = 50;

  /* A text's tokens, each shaded by its attribution against the method's largest |attribution|. */
  function shadedTokens(values, scale) {
    return values.tokens.map((token, i) => {
      const a = values.attributions[i];
      const span = el('span', {class: 'token', 'data-value': a, title: `${token}: ${a === null ? '–' : signed(a)}`},
        [token, el('span', {class: 'sr-only', text: ` (${a === null ? '–' : signed(a)})`})]);
      if (a !== null) span.style.backgroundColor = heat(a / scale, 0.85);
      return [span, ' '];
    });
  }

  function textsView() {
    const G = E.texts;
    const f = galleryFilters(G, 't');
    const pages = Math.max(1, Math.ceil(f.rows.length / TEXTS_PER_PAGE));
    const page = clamp(parseInt(state.get('tpage', '1'), 10) || 1, 1, pages);
    const first = (page - 1) * TEXTS_PER_PAGE;
    const items = f.rows.slice(first, first + TEXTS_PER_PAGE).map(row => el('div', {class: 'text-item', 'data-row': row.id,
      'data-label': classText(row.label), 'data-correct': f.labelled ? String(f.isCorrect(row)) : null}, [
      el('p', {class: 'verdict', text: verdicts(G, row, f.labelled)}),
      G.methods.map(method => {
        const drawn = G.roles.filter(role => (row.tokens[role] || {})[method]);
        if (!drawn.length) return null;
        const scale = Math.max(1e-12, ...drawn.flatMap(role => row.tokens[role][method].attributions.map(a => Math.abs(a || 0))));
        return [drawn.map(role => {
          const values = row.tokens[role][method];
          return el('p', {class: 'tokens', 'data-role': role, 'data-method': method}, [
            el('span', {class: 'role', text: `${role} · ${method} (class ${values.class}, score ${fmt(values.score)}): `}),
            shadedTokens(values, scale)]);
        }), el('p', {class: 'tokens-legend'}, scaleLegend(Number(scale.toPrecision(4)), method, drawn, scale === 1e-12))];
      }),
    ]));
    return el('section', {}, [
      el('p', {class: 'summary', text: `Text feature ${G.feature}: each explained text, its tokens shaded by their attribution to the ` +
        `class explained (red raises its score, blue lowers it; hover a token for its value); a method's shades of a text, ` +
        'candidate\'s and baseline\'s, on one scale (under them: full colour at the larger of their largest |attribution|).'}),
      methodGates(G.methods), f.controls, gallerySummary(G, f.rows.length, 'texts'),
      f.rows.length ? el('div', {class: 'texts', 'data-gallery': 'texts'}, items) : el('p', {class: 'empty', text: 'No text matches the filters.'}),
      pages > 1 ? el('div', {class: 'pager'}, [
        el('button', {text: '‹ Previous', disabled: page === 1, onclick: () => state.set({tpage: page - 1})}),
        el('span', {text: `texts ${first + 1}–${Math.min(first + TEXTS_PER_PAGE, f.rows.length)} of ${f.rows.length}`}),
        el('button', {text: 'Next ›', disabled: page === pages, onclick: () => state.set({tpage: page + 1})}),
      ]) : null,
    ]);
  }

  function driftView() {
    const D = E.drift;
    const gated = unique(DRIFT_CHECKS.map(c => c.threshold && c.threshold.distance).filter(d => d));
    const distance = DISTANCES.some(([id]) => id === state.get('distance')) ? state.get('distance') : gated[0] || 'psi';
    const label = DISTANCES.find(([id]) => id === distance)[1];
    const names = D.slices.map(s => s.slice_name);
    const slice = pickSlice(names);
    const current = D.slices.find(s => s.slice_name === slice);
    const rows = current.predictions.map(e => Object.assign({role: 'prediction'}, e))
      .concat(current.features.map(e => Object.assign({role: 'feature'}, e)))
      .map(e => Object.assign({checks: driftChecks(slice, e.name)}, e));
    const failed = row => row.checks.some(c => !c.passed);
    const value = row => (distance in row ? row[distance] : null);
    const shown = sortRows(rows.filter(row => value(row) !== null), value, true).slice(0, 20).reverse();
    const bounds = unique(DRIFT_CHECKS.filter(c => c.slice === slice && c.threshold.distance === distance)
      .map(c => c.threshold.max_distance));
    const nameOf = row => (failed(row) ? '✗ ' : '') + row.name;
    const failures = DRIFT_CHECKS.filter(c => !c.passed);
    const summary = `Drift from ${D.reference}: ${current.features.length} features and the predictions on ` +
      `${names.length} slices; numeric features binned at ${D.num_bins} quantiles of the reference for PSI, ` +
      'Jensen-Shannon and L-infinity.' + (DRIFT_CHECKS.length ? ` Drift gates: ${failures.length} of ${DRIFT_CHECKS.length} checks failed` +
      (failures.length ? ' (✗, red).' : '.') : '');
    const gateText = row => row.checks.map(c => `${c.passed ? '✓' : '✗'} ${SHORT[c.threshold.distance]} ≤ ${fmt(c.threshold.max_distance)}`).join(', ');
    const column = (id, text) => ({id: id, label: text, value: row => (id in row ? row[id] : null)});
    return el('section', {}, [
      el('p', {class: 'summary', text: summary}),
      el('div', {class: 'controls'}, [
        sliceSelect(names, slice),
        labelled('Distance', select('distance', DISTANCES.map(([id, text]) => [id, text + (gated.includes(id) ? ' (gated)' : '')]), distance)),
      ]),
      shown.length ? chart('drift', `${label} from the reference on ${slice}, most drifting first`, [{
        type: 'bar', orientation: 'h', x: shown.map(value), y: shown.map(row => plotText(nameOf(row))),
        customdata: shown.map(row => [row.kind, fmt(row.count), fmt(row.reference_count)]),
        hovertemplate: `%{y}: ${label} %{x}<br>%{customdata[0]}, n=%{customdata[1]}, reference n=%{customdata[2]}<extra></extra>`,
        marker: {color: shown.map(row => (failed(row) ? '#d93025' : row.role === 'prediction' ? '#f29900' : '#1a73e8')),
                 pattern: {shape: shown.map(row => (failed(row) ? '/' : ''))}},
      }], {yaxis: {type: 'category', automargin: true}, xaxis: {title: {text: label}, rangemode: 'tozero'},
           height: Math.max(240, 24 * shown.length + 110),
           shapes: bounds.map(b => ({type: 'line', xref: 'x', yref: 'paper', x0: b, x1: b, y0: 0, y1: 1, line: {color: '#a50e0e', dash: 'dash'}})),
           annotations: bounds.map(b => ({xref: 'x', yref: 'paper', x: b, y: 1, yanchor: 'bottom', showarrow: false,
                                          text: `gate ≤ ${fmt(b)}`, font: {color: '#a50e0e', size: 11}}))})
        : el('p', {class: 'empty', text: `No feature on ${slice} has a ${label} (categorical features have no Wasserstein or Kolmogorov-Smirnov).`}),
      el('p', {class: 'summary', text: 'Blue: features; orange: the predictions; red and hatched (✗): failing a drift gate' +
                                       (bounds.length ? '; dashed line: the bound of a drift gate on this slice (on the entries it checks).' : '.')}),
      dataTable([{id: 'name', label: 'Feature', value: row => row.name, text: nameOf, title: row => row.error || null},
                 {id: 'kind', label: 'Kind', value: row => (row.role === 'prediction' ? 'prediction' : row.kind)},
                 {id: 'gate', label: 'Drift gate', value: gateText, title: row => row.checks.map(c => c.sentence).join('\n') || null}]
        .concat(DISTANCES.map(([id, text]) => Object.assign(column(id, SHORT[id]), {title: () => text})), [
                 {id: 'count', label: 'n (ref.)', value: row => row.count,
                  text: row => `${fmt(row.count)} (${fmt(row.reference_count)})`}],
                rows.some(row => row.error) ? [{id: 'note', label: 'Note', value: row => row.error || ''}] : []),
        rows, {name: 'drift', caption: `Distances from the reference on ${slice}`, sortKey: 'dsort', pageKey: 'dpage',
               defaultSort: '-' + distance, rowClass: row => (failed(row) ? 'fail' : null)}),
      el('h2', {text: 'Slices'}),
      el('p', {class: 'summary', text: `Each slice's most drifting feature by ${label}, and the predictions'; a row opens its slice.`}),
      dataTable([{id: 'slice', label: 'Slice', value: s => s.slice_name},
                 {id: 'feature', label: 'Top feature', value: s => (topFeature(s, distance) || {}).name},
                 {id: 'value', label: SHORT[distance], value: s => (topFeature(s, distance) || {})[distance]},
                 {id: 'prediction', label: `Predictions' ${SHORT[distance]}`, value: s => (s.predictions[0] || {})[distance]},
                 {id: 'failed', label: 'Failed checks', value: s => DRIFT_CHECKS.filter(c => c.slice === s.slice_name && !c.passed).length}],
        D.slices, {name: 'drift-slices', caption: `Each slice's most drifting feature by ${label}`, sortKey: 'dssort', pageKey: 'dspage',
                   defaultSort: '-value', onRow: s => state.set({slice: s.slice_name}),
                   rowClass: s => (DRIFT_CHECKS.some(c => c.slice === s.slice_name && !c.passed) ? 'fail link' : 'link')}),
    ]);
  }

  function topFeature(driftSlice, distance) {
    return sortRows(driftSlice.features.filter(e => distance in e), e => e[distance], true)[0];
  }

  /* ---------- the validation decision ---------- */

  function model(m) {
    return m ? [m.name ? el('strong', {text: m.name}) : '', m.uri ? ` at ${m.uri}` : '', m.id !== undefined && m.id !== null ? ` (MLMD id ${m.id})` : ''] : null;
  }

  function overrideText(o) {
    return `Overridden by ${o.by}: ${o.reason} (${o.approved ? 'approved' : 'vetoed'} ${o.time}` +
      (o.id !== null ? `, Override ${o.id}` : '') + (o.blessing_id !== null ? `, over ModelBlessing ${o.blessing_id}` : '') + ')';
  }

  function validationView() {
    const d = DATA.validation;
    const failures = d.checks.filter(c => !c.passed).length;
    const details = [
      ['Candidate', model(d.candidate)],
      ['Baseline', d.baseline ? model(d.baseline) : 'none' + (d.rubber_stamp ? ' (rubber stamp: change thresholds not applied)' : '')],
      ['Evaluation', d.evaluation],
      ['Checks', `${d.checks.length}, ${failures} failed` + (d.override ? ' (the verdict is the override\'s)' : '')],
    ];
    if (d.override) details.unshift(['Override', overrideText(d.override)]);
    const columns = [
      {id: 'result', label: 'Result', value: c => (c.passed ? (c.skipped ? 1 : 2) : 0),
       text: c => (c.passed ? (c.skipped ? 'skipped' : 'passed') : 'FAILED')},
      {id: 'kind', label: 'Check', value: c => c.kind, text: c => c.kind.replace(/_/g, ' ')},
      {id: 'slice', label: 'Slice', value: c => c.slice},
      {id: 'metric', label: 'Metric', value: c => c.metric},
      {id: 'value', label: 'Value', value: c => c.value, title: c => String(c.value)},
      {id: 'baseline', label: 'Baseline value', value: c => c.baseline_value, title: c => String(c.baseline_value)},
      {id: 'threshold', label: 'Threshold', value: c => thresholdText(c.threshold), title: c => JSON.stringify(c.threshold)},
      {id: 'sentence', label: 'Explanation', value: c => c.sentence},
    ];
    const charted = c => E && E.plots && c.slice in E.plots;
    return el('section', {}, [
      decisionBanner(d.blessed, d.reason),
      el('div', {class: 'glance'}, [weakestSlices(d.checks), E && E.attributions.length ? topFeatures() : null]),
      facts(details),
      dataTable(columns, d.checks, {name: 'checks', caption: 'The validation\'s checks', sortKey: 'csort', pageKey: 'cpage', defaultSort: 'result',
        rowClass: c => (c.passed ? (c.skipped ? 'skip' : 'pass') : 'fail') + (charted(c) ? ' link' : ''),
        onRow: c => charted(c) && showSlice(c.slice)}),
      Object.keys((E && E.plots) || {}).length ? el('p', {class: 'summary', text: "Click a check to see its slice's charts."}) : null,
    ]);
  }

  /* How far a check's value is inside its bound (negative: outside); null without a value or bound. */
  function margin(check) {
    const bound = checkBound(check), t = check.threshold || {};
    if (bound === null || typeof check.value !== 'number') return null;
    return 'upper_bound' in t && !('lower_bound' in t) || t.direction === 'LOWER_IS_BETTER' ? bound - check.value : check.value - bound;
  }

  /* The first screen's slices nearest to failing: the failed metric checks, then the smallest margins. */
  function weakestSlices(checks) {
    const rows = checks.filter(c => !c.skipped && c.metric && (checkBound(c) !== null || !c.passed) && c.kind !== 'attribution')
      .map(c => Object.assign({margin: margin(c)}, c))
      .sort((a, b) => (a.passed - b.passed) || compare(a.margin, b.margin, false)).slice(0, 5);
    if (!rows.length) return null;
    const charted = c => E && E.plots && c.slice in E.plots;
    return el('div', {}, [el('h2', {text: 'Weakest slices against their thresholds'}),
      dataTable([
        {id: 'slice', label: 'Slice', value: c => c.slice, title: c => c.sentence},
        {id: 'metric', label: 'Metric', value: c => c.metric},
        {id: 'value', label: 'Value', value: c => c.value},
        {id: 'threshold', label: 'Threshold', value: c => thresholdText(c.threshold)},
        {id: 'margin', label: 'Margin', value: c => c.margin, text: c => (c.margin === null ? 'no value' : fmt(c.margin))},
      ], rows, {name: 'weakest', caption: 'The five checks of a metric on a slice nearest to failing, failed ones first',
                sortKey: 'wsort', pageKey: 'wpage', rowClass: c => (c.passed ? 'pass' : 'fail') + (charted(c) ? ' link' : ''),
                onRow: c => charted(c) && showSlice(c.slice)})]);
  }

  /* The first screen's top features on Overall: the candidate's, beside their baseline values and ranks. */
  function topFeatures() {
    const {name, candidate, baseline} = attributionsOf(null);
    const S = E.explanation_summary;
    const slice = 'Overall' in candidate.by_slice ? 'Overall' : Object.keys(candidate.by_slice)[0];
    const shift = S ? S.shift.find(r => r.slice === slice) : null;
    const gate = featureGate();
    const k = gate ? gate.threshold.top_k_overlap.k : shift ? shift.top_k : 5;
    const values = candidate.by_slice[slice] || {}, old = baseline ? baseline.by_slice[slice] || {} : {};
    const ranked = map => Object.keys(map).sort((a, b) => compare(map[a], map[b], true));
    const oldRank = ranked(old);
    const rows = ranked(values).slice(0, k).map((feature, i) => ({feature: feature, rank: i + 1, value: values[feature],
      baseline: feature in old ? old[feature] : null, baselineRank: oldRank.indexOf(feature) + 1 || null}));
    const columns = [{id: 'feature', label: 'Feature', value: r => r.feature},
                     {id: 'value', label: 'Candidate', value: r => r.value, text: r => `${fmt(r.value)} (#${r.rank})`}];
    if (baseline) {
      columns.push({id: 'baseline', label: 'Baseline', value: r => r.baseline,
                    text: r => (r.baseline === null ? '–' : `${fmt(r.baseline)} (#${r.baselineRank})`)},
                   {id: 'change', label: 'Change', value: r => (r.baseline === null ? null : r.value - r.baseline)});
    }
    const shared = rows.filter(r => r.baselineRank !== null && r.baselineRank <= k).length;
    return el('div', {}, [el('h2', {text: `Top ${rows.length} features on ${slice}` + (baseline ? ', against the baseline' : '')}),
      baseline ? el('p', {class: 'summary', text: `${shared} of the top ${rows.length} among the baseline's top ${rows.length}` +
        (gate ? ` (the gate requires ≥ ${gate.threshold.top_k_overlap.min_overlap}: ${gate.passed ? 'passed' : 'FAILED'})` : '') +
        (shift ? `; attribution shift ${fmt(shift.attribution_shift)} (0: the same shares, 1: disjoint)` : '') + '.'}) : null,
      dataTable(columns, rows, {name: 'top-features', caption: `The candidate's top features by ${name} on ${slice}`,
                                sortKey: 'tfsort', pageKey: 'tfpage', rowClass: () => 'link',
                                onRow: () => state.set({view: 'explanations', slice: slice})})]);
  }

  /* The verdict in bold, then the reason (which may begin with the verdict: not said twice). */
  function decisionBanner(blessed, reason) {
    const verdict = blessed ? 'Blessed' : 'Not blessed';
    const rest = (reason || '').startsWith(verdict) ? reason.slice(verdict.length).replace(/^[:.]\s*/, '') : reason || '';
    return el('div', {class: 'decision ' + (blessed ? 'blessed' : 'not-blessed')}, [
      el('strong', {text: verdict}), el('span', {text: rest})]);
  }

  const DIRECTION = {HIGHER_IS_BETTER: 'higher is better', LOWER_IS_BETTER: 'lower is better'};

  /* A check's threshold as a reader says it: "≥ 0.65", "change ≥ -0.01 vs baseline (higher is better)". */
  function thresholdText(t) {
    if (t === null || t === undefined) return '';
    if (typeof t !== 'object') return String(t);
    const better = t.direction in DIRECTION ? ` (${DIRECTION[t.direction]})` : '';
    const down = t.direction === 'LOWER_IS_BETTER';
    const parts = [];
    if ('lower_bound' in t) parts.push(`≥ ${fmt(t.lower_bound)}`);
    if ('upper_bound' in t) parts.push(`≤ ${fmt(t.upper_bound)}`);
    if ('absolute' in t) parts.push(`change ${down ? '≤' : '≥'} ${fmt(t.absolute)} vs baseline`);
    if ('relative' in t) parts.push(`relative change ${down ? '≤' : '≥'} ${fmt(t.relative)} vs baseline`);
    if ('max_distance' in t) parts.push(`${(t.distance || 'distance').replace(/_/g, ' ')} ≤ ${fmt(t.max_distance)}`);
    if ('min_count' in t) parts.push(`≥ ${fmt(Number(t.min_count))} examples`);
    if ('max_gap' in t) parts.push(`${t.metric || 'metric'} within ${fmt(t.max_gap)} of Overall`);
    if ('margin' in t) parts.push(`${t.metric || 'metric'} not significantly worse than the baseline by > ${fmt(t.margin)}`);
    const by = t.method ? ` by ${t.method}` : '';
    for (const f of [].concat(t.max_feature_share || [])) parts.push(`share of ${t.method ? `the token '${f.feature}'` : f.feature}${by} ≤ ${fmt(f.max_share)}`);
    if (t.top_k_overlap) parts.push(`≥ ${t.top_k_overlap.min_overlap} of the top ${t.top_k_overlap.k} ${t.method ? 'tokens' : 'features'}${by} shared with the baseline`);
    if (t.max_shift) parts.push(`attribution shift${by} ≤ ${fmt(t.max_shift.max_shift)}`);
    if (t.min_heat_map_overlap) parts.push(`IoU of the top ${fmt(100 * (t.min_heat_map_overlap.top_fraction || 0))}% pixels of each class's mean ${t.method} map with the baseline's ≥ ${fmt(t.min_heat_map_overlap.min_iou || 0)}`);
    if ('no_applicable_checks' in t) parts.push(`when no check applies: ${t.no_applicable_checks.toLowerCase().replace(/_/g, ' ')}`);
    return parts.length ? parts.join(' and ') + better
      : Object.entries(t).filter(([k]) => !k.startsWith('slicing_spec')).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
  }

  /* ---------- from ML Metadata: metric history, decision trail, model card ---------- */

  function verdict(blessed) {
    return blessed === null || blessed === undefined ? 'no verdict' : blessed ? 'blessed' : 'not blessed';
  }

  function ref(r) {
    return r ? `${r.type} ${r.id} at ${r.uri}` : '–';
  }

  function facts(pairs) {
    return el('dl', {class: 'facts'}, pairs.filter(p => p[1] !== null && p[1] !== undefined)
      .flatMap(([term, detail]) => [el('dt', {text: term}), el('dd', {}, detail)]));
  }

  /* Text broken into lines of about `width` characters, for plotly (its hover labels never wrap). */
  function wrapped(text, width) {
    const lines = [''];
    for (const word of String(text).split(' ')) {
      const last = lines.length - 1;
      if (lines[last] && lines[last].length + word.length >= width) lines.push(word);
      else lines[last] = lines[last] ? lines[last] + ' ' + word : word;
    }
    return lines.map(plotText).join('<br>');
  }

  /* A monitoring's evaluation (glassbox monitor) passed or failed its checks; a pipeline run's
   * model was blessed or not. */
  function pointVerdict(p) {
    if (!p.monitored) return verdict(p.blessed);
    return p.blessed ? 'monitor: passed' : 'monitor: failed';
  }

  /* A metric over the pipeline's evaluations against their data span (h.by_span: several spans,
   * every evaluation's data has one) or time: a marker per verdict, the validation's thresholds on
   * the metric as dashed steps, any recorded metric from the chooser. */
  function historyView() {
    const h = DATA.history;
    const COLORS = {'blessed': '#137333', 'not blessed': '#a50e0e', 'monitor: passed': '#137333',
                    'monitor: failed': '#a50e0e', 'no verdict': '#9aa0a6'};
    const SYMBOLS = {'blessed': 'circle', 'monitor: passed': 'diamond', 'monitor: failed': 'x'};
    const metrics = unique([h.metric].concat(h.points.flatMap(p => Object.keys(p.metrics || {})).sort()));
    const metric = metrics.includes(state.get('metric')) ? state.get('metric') : h.metric;
    const shown = h.points.map((p, i) => Object.assign({}, p, {
      n: i + 1, time: p.evaluation.created.replace(/(Z|[+-]\d\d:\d\d)$/, ''), // plotly's dates: no offset (UTC)
      value: metric === h.metric ? p.value : (p.metrics || {})[metric] ?? null}));
    const hasSpan = p => p.span !== null && p.span !== undefined;
    const when = p => p.time.replace('T', ' ').slice(0, 16) + (hasSpan(p) ? `, span ${p.span}` : '');
    const x = p => (h.by_span ? p.span : p.time);
    const traces = Object.keys(COLORS).map(name => {
      const points = shown.filter(p => pointVerdict(p) === name && p.value !== null);
      return {type: 'scatter', mode: 'markers', name: name, x: points.map(x), y: points.map(p => p.value),
              marker: {size: 12, color: COLORS[name], symbol: SYMBOLS[name] || 'x'},
              customdata: points.map(p => [p.monitored ? 'monitor' : p.run || '', p.model.id, wrapped(p.reason || name, 70), when(p)]),
              hovertemplate: `%{customdata[3]}, run %{customdata[0]}<br>model %{customdata[1]}: ${plotText(metric)} %{y}` +
                             '<br>%{customdata[2]}<extra></extra>'};
    }).filter(trace => trace.x.length);
    const line = {type: 'scatter', mode: 'lines', x: shown.map(x), y: shown.map(p => p.value), showlegend: false,
                  line: {color: '#dadce0'}, hoverinfo: 'skip', connectgaps: true};
    const onMetric = c => c.metric === metric || c.metric.startsWith(metric + ' (');
    const bound = c => (c.kind === 'drift' ? c.threshold.max_distance ?? null : checkBound(c));
    const thresholds = ['value_threshold', 'change_threshold', 'drift'].map(kind => {
      const bounds = shown.map(p => {
        const check = (p.checks || []).find(c => c.kind === kind && onMetric(c) && bound(c) !== null);
        return check ? [bound(check), thresholdText(check.threshold)] : [null, ''];
      });
      const color = kind === 'change_threshold' ? '#b06000' : '#202124';
      const name = kind === 'drift' ? 'drift gate' : kind.replace('_', ' ');
      return {type: 'scatter', mode: 'lines+markers', name: name, x: shown.map(x),
              y: bounds.map(b => b[0]), customdata: bounds.map(b => plotText(b[1])), line: {dash: 'dash', width: 1, color: color},
              marker: {symbol: 'line-ew-open', size: 28, line: {width: 2.5, color: color}},
              hovertemplate: `${name} %{y}: %{customdata}<extra></extra>`};
    }).filter(trace => trace.y.some(y => y !== null));
    const few = shown.length <= 12;
    const spans = unique(shown.map(p => p.span));
    const xaxis = h.by_span
      ? Object.assign({type: 'linear', title: {text: 'data span'}},
          spans.length <= 20 ? {tickvals: spans, ticktext: spans.map(s => `span ${s}`)} : {})
      : Object.assign({type: 'date', title: {text: 'evaluated (UTC)' + (shown.some(hasSpan) ? ', data span' : '')}},
          few ? {tickvals: shown.map(p => p.time), ticktext: shown.map(p => plotText(when(p)).replace(', ', '<br>'))} : {});
    const columns = [
      {id: 'n', label: '#', value: p => p.n},
      {id: 'time', label: 'Evaluated (UTC)', value: p => p.time.replace('T', ' ')},
      {id: 'span', label: 'Data span', value: p => p.span},
      {id: 'run', label: 'Run', value: p => (p.monitored ? 'monitor' : p.run)},
      {id: 'artifacts', label: 'ML Metadata ids', value: p => p.evaluation.id,
       text: p => `evaluation ${p.evaluation.id}, model ${p.model.id} (baseline ${p.baseline_model ? p.baseline_model.id : 'none'}), ` +
                  `examples ${p.examples.id}`,
       title: p => [p.evaluation, p.model, p.baseline_model, p.examples].filter(a => a).map(a => `${a.type} ${a.id}: ${a.uri}`).join('\n')},
      {id: 'value', label: metric, value: p => p.value, title: p => String(p.value)},
      {id: 'verdict', label: 'Verdict', value: pointVerdict, title: p => p.reason},
      {id: 'reason', label: 'Reason', value: p => p.reason},
    ];
    const order = h.by_span ? 'by data span' : 'oldest first';
    return el('section', {}, [
      el('div', {class: 'controls'}, [labelled('Metric', select('metric', metrics.map(m => [m, m]), metric))]),
      el('p', {class: 'summary', text: `${metric} on ${h.slice} over ${h.points.length} evaluations of pipeline ` +
                                       `${h.pipeline} (${h.store}), ${order}` +
                                       (thresholds.length ? '; dashed: the validation\'s thresholds' : '')}),
      chart('history', `${metric} on ${h.slice}`, [line].concat(thresholds, traces), {
        xaxis: xaxis, yaxis: {title: {text: plotText(metric)}}, hovermode: 'closest'}),
      dataTable(columns, shown, {name: 'history', caption: `${metric} on ${h.slice} at each evaluation, ${order}`, sortKey: 'hsort', pageKey: 'hpage',
        rowClass: p => (p.blessed === false ? 'fail' : p.blessed ? 'pass' : 'skip')}),
    ]);
  }

  function lineageView() {
    const t = DATA.lineage;
    const v = t.validation, e = t.evaluation, push = t.push;
    const specs = (e.eval_config.slicing_specs || [{}]).map(s => (s.feature_keys || []).concat(
      Object.entries(s.feature_values || {}).map(([k, x]) => `${k}=${x}`)).join(' x ') || 'Overall');
    return el('section', {}, [
      decisionBanner(v.blessed, v.reason),
      facts([
        ['Model', ref(t.model)],
        ['Pipeline run', `${t.pipeline || '–'}, run ${t.run || '–'}`],
        ['Trained by', `${t.training.component} (execution ${t.training.execution_id})`],
        ['Training parameters', Object.entries(t.training.parameters).map(([k, x]) => `${k}=${x}`).join(', ')],
        ['Training data', t.training.examples.map(ref).join(', ') || '–'],
        ['Evaluation', ref(e.evaluation)],
        ['Evaluation data', ref(e.examples) + (e.example_splits ? ` (splits: ${e.example_splits.join(', ')})` : '')],
        ['Slicing', specs.join(', ')],
        ['Baseline', t.baseline_model ? ref(t.baseline_model) : 'none (nothing to compare with: rubber stamp)'],
        ['Blessing', ref(v.blessing)],
        ['Validation', v.result ? ref(v.result) : '–'],
        ['Push', !push ? 'no Pusher took the blessing' : push.pushed ? `pushed to ${push.destination} (${ref(push.pushed_model)})`
                                                                   : `not pushed (${ref(push.pushed_model)})`],
        ['Overrides', (t.overrides || []).map(overrideText).join('; ') || 'none'],
      ]),
      el('h2', {text: 'Overall metrics'}),
      dataTable([{id: 'metric', label: 'Metric', value: m => m[0]}, {id: 'value', label: 'Value', value: m => m[1]}],
        Object.entries(e.overall_metrics), {name: 'trail-metrics', caption: 'The evaluation\'s overall metrics', sortKey: 'tmsort', pageKey: 'tmpage'}),
      el('h2', {text: 'Checks'}),
      dataTable([
        {id: 'result', label: 'Result', value: c => (c.passed ? (c.skipped ? 1 : 2) : 0),
         text: c => (c.passed ? (c.skipped ? 'skipped' : 'passed') : 'FAILED')},
        {id: 'sentence', label: 'Explanation', value: c => c.sentence},
      ], v.checks, {name: 'trail-checks', caption: 'The validation\'s checks', sortKey: 'tcsort', pageKey: 'tcpage', defaultSort: 'result',
                    rowClass: c => (c.passed ? (c.skipped ? 'skip' : 'pass') : 'fail')}),
    ]);
  }

  function modelCardView() {
    const card = DATA.model_card;
    const details = card.model_details || {}, params = card.model_parameters || {};
    const considerations = card.considerations || {};
    const bySlice = new Map();
    for (const m of (card.quantitative_analysis || {}).performance_metrics || []) {
      const slice = m.slice || 'Overall';
      if (!bySlice.has(slice)) bySlice.set(slice, {slice: slice});
      bySlice.get(slice)[m.type] = m.value;
    }
    const types = unique([...bySlice.values()].flatMap(row => Object.keys(row).filter(k => k !== 'slice')));
    const version = details.version || {};
    const list = (title, items) => (items && items.length ? [el('h2', {text: title}), el('ul', {},
      items.map(item => el('li', {text: item.description || [item.name, item.mitigation_strategy].filter(x => x).join(': ')})))] : []);
    return el('section', {class: 'model-card'}, [
      el('h2', {text: details.name || 'Model'}),
      el('p', {class: 'overview', text: details.overview || ''}),
      facts([['Version', version.name ? version.name + (version.date ? ` (${version.date})` : '') : null],
             ['Architecture', params.model_architecture || null]]),
      (details.documentation || '').split('\n\n').filter(x => x).map(text => el('p', {text: text})),
      version.diff ? [el('h2', {text: 'Compared with the model it replaces'}), el('p', {text: version.diff})] : [],
      params.data && params.data.length ? [el('h2', {text: 'Data'}),
        el('ul', {}, params.data.map(d => el('li', {text: `${d.name || ''}: ${d.description || ''}`})))] : [],
      list('Limitations', considerations.limitations),
      list('Tradeoffs against the model it replaces', considerations.tradeoffs),
      list('Users', considerations.users), list('Use cases', considerations.use_cases),
      list('Ethical considerations', considerations.ethical_considerations),
      el('h2', {text: 'Metrics by slice'}),
      dataTable([{id: 'slice', label: 'Slice', value: row => row.slice}].concat(types.map(type => ({
        id: type, label: type, value: row => (type in row ? row[type] : null)}))),
      [...bySlice.values()], {name: 'card-metrics', caption: 'Metrics by slice', sortKey: 'msort', pageKey: 'mpage'}),
    ]);
  }

  /* ---------- the page ---------- */

  const VIEWS = {
    validation: {title: 'Validation', render: validationView},
    slices: {title: 'Slices', render: slicesView},
    plots: {title: 'Plots', render: plotsView},
    explanations: {title: 'Explanations', render: explanationsView},
    examples: {title: 'Examples', render: examplesView},
    images: {title: 'Images', render: imagesView},
    texts: {title: 'Texts', render: textsView},
    drift: {title: 'Drift', render: driftView},
    model_card: {title: 'Model card', render: modelCardView},
    lineage: {title: 'Lineage', render: lineageView},
    history: {title: 'History', render: historyView},
  };

  function header() {
    const parts = [];
    if (E) {
      parts.push(el('span', {}, ['Candidate ', model({name: E.candidate, uri: E.model_locations[E.candidate]})]));
      if (E.baseline !== null) parts.push(el('span', {}, ['baseline ', model({name: E.baseline, uri: E.model_locations[E.baseline]})]));
      parts.push(el('span', {text: `${E.slices.length} slices; evaluation ${E.path}`}));
    }
    if (DATA.validation) {
      parts.push(el('span', {class: 'badge ' + (DATA.validation.blessed ? 'blessed' : 'not-blessed'),
                             text: (DATA.validation.blessed ? 'Blessed' : 'Not blessed') +
                                   (DATA.validation.override ? ' (overridden)' : '')}));
    }
    document.querySelector('header').append(el('p', {class: 'meta'}, parts));
  }

  function render() {
    const current = DATA.views.includes(state.get('view')) ? state.get('view') : DATA.views[0];
    const focused = document.activeElement; // a redraw keeps the keyboard's place: the same control
    const focusKey = focused && (focused.dataset.focus ? `[data-focus="${CSS.escape(focused.dataset.focus)}"]`
      : focused.name ? `[name="${CSS.escape(focused.name)}"]` : null);
    document.getElementById('tabs').replaceChildren(...DATA.views.map(name => el('button', {
      class: name === current ? 'active' : null, 'data-view': name, text: VIEWS[name].title,
      'aria-current': name === current ? 'page' : null, 'data-focus': 'view:' + name,
      onclick: () => state.set({view: name}),
    })));
    delete document.documentElement.dataset.rendered;
    pendingCharts = [];
    document.getElementById('view').replaceChildren(VIEWS[current].render());
    const refocus = focusKey && document.querySelector(focusKey);
    if (refocus) refocus.focus();
    const drawing = pendingCharts.map(draw => draw());
    Promise.all(drawing).then(() => { document.documentElement.dataset.rendered = current; });
  }

  header();
  render();
}).catch(error => {
  document.getElementById('view').textContent = `This report could not be drawn (${error}); it needs a browser from 2023 or later.`;
  throw error;
});
