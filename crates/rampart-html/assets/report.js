/* rampart HTML report. Vanilla JS, no network, no framework.
 *
 * Security invariant: every string that comes from the report data is inserted with
 * textContent / createTextNode or setAttribute on a data-* / aria-* / title attribute.
 * No markup is ever parsed from data, no link is built from data, and no code is evaluated.
 * tests/static_checks.rs greps this file for the banned APIs.
 */
(function () {
  'use strict';

  var doc = document;
  var rootEl = doc.documentElement;
  mark('rampart-script-start');

  var STATUSES = ['unsafe', 'error', 'undetermined', 'safe'];
  var STATUS_LABEL = { safe: 'SAFE', unsafe: 'UNSAFE', undetermined: 'UNDETERMINED', error: 'ERROR' };
  var CLASS_ORDER = { unsafe: 0, error: 1, no_result: 2, undetermined: 3, safe: 4 };
  var CLASS_LABEL = { unsafe: 'UNSAFE', error: 'ERROR', no_result: 'NO RESULT', undetermined: 'UNDETERMINED', safe: 'SAFE' };
  // The run verdict: its headline when the report has no verdict line, and what it means.
  var VERDICT_TEXT = {
    safety_failure: ['FAILED', 'An attack worked, a trial group is below its threshold, or a gate failed.'],
    nothing_assessed: ['NOTHING ASSESSED', 'Rampart tests ran but no result assessed safety: every result is an ERROR, or none was recorded.'],
    incomplete: ['INCOMPLETE', ''],
    passed: ['PASSED', 'Every trial group reached its threshold, no test was UNSAFE and nothing is missing.']
  };
  var GROUP_PAGE = 100;
  var TRIAL_PAGE = 50;
  var RESULT_PAGE = 50;
  var AUTO_OPEN_GROUPS = 20;
  var UNCATEGORIZED = 'uncategorized';

  function mark(name) {
    try { performance.mark(name); } catch (e) { /* old browsers */ }
  }

  // ---- DOM helpers (text only) -------------------------------------------------------

  function h(tag, cls, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function addText(parent, text) { parent.appendChild(doc.createTextNode(String(text))); return parent; }
  function clamp01(x) {
    x = Number(x);
    return isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
  }
  function pct(x) {
    if (x === null || x === undefined || !isFinite(Number(x))) return '\u2013';
    x = Number(x) * 100;
    return (x === 0 || x === 100 ? x.toFixed(0) : x.toFixed(1)) + '%';
  }
  function num(n) { return Number(n || 0).toLocaleString('en-US'); }
  // `1 result`, `1,234 results`.
  function plural(n, one, many) { return num(n) + ' ' + (Number(n) === 1 ? one : many); }
  // Thousands separators in a sentence the report wrote with bare counts (the verdict line:
  // counts and an exit code, no recorded text).
  function groupDigits(text) {
    return String(text).replace(/\b\d{4,}\b/g, function (d) { return num(Number(d)); });
  }
  // An ISO time as the reader's local date and time (`2 Dec 2026, 05:37`), or null.
  function humanTime(iso) {
    var d = new Date(String(iso));
    if (!iso || isNaN(d.getTime())) return null;
    try {
      return d.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
    } catch (e) {
      return d.toUTCString();
    }
  }
  function seconds(s) {
    if (s === null || s === undefined || !isFinite(Number(s))) return '';
    s = Number(s);
    if (s < 1) return (s * 1000).toFixed(0) + ' ms';
    if (s < 120) return s.toFixed(2) + ' s';
    return (s / 60).toFixed(1) + ' min';
  }
  function badge(kind, label, extra) {
    var b = h('span', 'rr-badge rr-badge-' + kind + (extra ? ' ' + extra : ''), label);
    return b;
  }
  function statusBadge(status) {
    return badge(STATUSES.indexOf(status) >= 0 ? status : 'other', STATUS_LABEL[status] || String(status));
  }
  function prettyJson(value) {
    try { return JSON.stringify(value, null, 2); } catch (e) { return String(value); }
  }
  function isEmptyObject(o) {
    if (!o || typeof o !== 'object') return true;
    for (var k in o) { if (Object.prototype.hasOwnProperty.call(o, k)) return false; }
    return true;
  }
  function label(binary, name, stress) {
    var s = binary ? binary + '$' + name : name;
    if (stress !== undefined && stress !== null) s += '@stress-' + stress;
    return s;
  }
  function toggleButton(cls, expanded, controls) {
    var b = h('button', 'rr-toggle ' + (cls || ''));
    b.type = 'button';
    b.setAttribute('aria-expanded', expanded ? 'true' : 'false');
    if (controls) b.setAttribute('aria-controls', controls);
    add(b, h('span', 'rr-chevron')).setAttribute('aria-hidden', 'true');
    return b;
  }
  function kv(dl, key, value) {
    if (value === undefined || value === null || value === '') return;
    add(dl, h('dt', null, key));
    var dd = add(dl, h('dd'));
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
  }
  function pre(text, cls) {
    var p = h('pre', 'rr-pre' + (cls ? ' ' + cls : ''));
    p.textContent = String(text);
    return p;
  }

  // ---- Data ---------------------------------------------------------------------------
  //
  // The page data is rampart-html's own projection of the report (src/page.rs): a core read
  // up front (interned strings `S`, columnar results, trials and attempts, the grouping
  // already joined) and detail chunks (conversations, evaluator evidence, captured output)
  // read only when the user opens a result or searches.

  var dataNotice = doc.getElementById('rr-data-notice');
  var SPLIT = !!dataNotice;

  function loadData() {
    if (dataNotice) {
      var parts = window.RAMPART_DATA_PARTS || [];
      var expected = Number(dataNotice.getAttribute('data-split-data'));
      if (parts.length !== expected) return null;
      var joined = parts.join('');
      window.RAMPART_DATA_PARTS = null;
      return JSON.parse(joined);
    }
    var node = doc.getElementById('rampart-data');
    if (node) return JSON.parse(node.textContent);
    return null;
  }

  var C;
  try {
    C = loadData();
  } catch (e) {
    fail('The report data could not be read: ' + e);
    return;
  }
  if (!C || !C.head) {
    fail('The report data is missing or incomplete. When this page says its data is in report-data-*.js files, keep them in the same directory as index.html.');
    return;
  }
  mark('rampart-data-parsed');

  var S = C.S || [];
  var R = C.head;
  function str(i) { return i >= 0 ? S[i] : null; }
  var RC = C.results;
  var rSt = RC.st, rH = RC.h, rT = RC.t, rAt = RC.at, rIx = RC.ix, rSu = RC.su, rSg = RC.sg;
  var nResults = rSt.length;
  // The evidence line of a result (rampart_report::evidence_text): its summary, then for a
  // result that is not SAFE what the core adds (` \u2014 evidence: ...`, sparse).
  var evidenceSuffix = Object.create(null);
  (RC.ev || []).forEach(function (p) { evidenceSuffix[p[0]] = S[p[1]]; });
  function resultLine(ri) { return (S[rSu[ri]] || '') + (evidenceSuffix[ri] || ''); }
  // Results of attempts that do not count (their trial counts through another attempt), and
  // per trial the attempt that counts and how a killed one ended: sparse lists in the core.
  var superseded = new Uint8Array(nResults);
  (RC.sp || []).forEach(function (ri) { superseded[ri] = 1; });
  function supersededOf(ri) { return superseded[ri] === 1; }
  function statusOf(ri) { return S[rSt[ri]]; }
  function harmOf(ri) { return rH[ri] >= 0 ? S[rH[ri]] : null; }
  function strategyOf(ri) { return rSg[ri] >= 0 ? S[rSg[ri]] : null; }
  var TC = C.trials, EC = C.tests, AC = C.attempts;

  // kind: 'group' (a trial group), 'standalone' (a rampart test judged by its own class), or
  // 'orphan' (results whose test the report does not list; kept so nothing is hidden).
  var groups = [];
  (C.groups || []).forEach(function (cg) {
    var raw = cg.raw || { binary_id: cg.b, name: cg.n };
    var g = {
      idx: groups.length,
      raw: raw,
      kind: cg.k,
      orphan: cg.k !== 'group',
      binary: cg.b || null,
      name: cg.n,
      label: label(cg.b, cg.n),
      why: cg.why || null,
      location: cg.loc || null,
      trend: cg.tr || null,
      harm: cg.k === 'group' ? raw.harm_category || null : null,
      verdict: raw.verdict === 'FAILED' ? 'failed' : raw.verdict === 'PASSED' ? 'passed' : 'no_result',
      trials: [],
      counts: { safe: 0, unsafe: 0, undetermined: 0, error: 0 },
      harms: Object.create(null),
      nResults: 0,
      nMatched: 0,
      labelLower: null
    };
    g.labelLower = g.label.toLowerCase();
    groups.push(g);
  });
  var nTrials = TC.g.length;
  var countedAttempt = Object.create(null), killedHow = Object.create(null), trialWhy = Object.create(null);
  (TC.ca || []).forEach(function (p) { countedAttempt[p[0]] = p[1]; });
  (TC.k || []).forEach(function (p) { killedHow[p[0]] = S[p[1]]; });
  // A string, or (`-1 - r`) the evidence line of result r.
  (TC.why || []).forEach(function (p) { trialWhy[p[0]] = p[1] >= 0 ? S[p[1]] : resultLine(-1 - p[1]); });
  var trials = new Array(nTrials);
  for (var ti0 = 0; ti0 < nTrials; ti0++) {
    var tg = groups[TC.g[ti0]];
    var tn = TC.tn[ti0];
    var trial = {
      idx: tg.trials.length,
      group: tg,
      cls: S[TC.cls[ti0]] || 'no_result',
      why: trialWhy[ti0] || null,
      results: [],
      nMatched: 0,
      execIdx: TC.ex[ti0],
      execCache: null,
      raw: {
        run_id: str(TC.run[ti0]),
        test_name: tn >= 0 ? tg.name + S[tn] : S[-1 - tn],
        trial_index: TC.ti[ti0] >= 0 ? TC.ti[ti0] : null,
        stress_index: TC.si[ti0] >= 0 ? TC.si[ti0] : null,
        attempts: TC.att[ti0],
        unsafe_retried_attempts: TC.ur[ti0],
        counted_attempt: countedAttempt[ti0] !== undefined ? countedAttempt[ti0] : null,
        killed: killedHow[ti0] || null
      }
    };
    trials[ti0] = trial;
    tg.trials.push(trial);
  }

  // nextest's record of a trial's test and its attempts (from JUnit), built when shown.
  function execRec(t) {
    if (t.execIdx < 0) return null;
    if (t.execCache) return t.execCache;
    var e = t.execIdx;
    var list = [];
    for (var k = EC.a[e]; k < EC.a[e + 1]; k++) {
      list.push({
        attempt: AC.n[k],
        outcome: S[AC.o[k]],
        failure_type: str(AC.ft[k]),
        message: str(AC.m[k]),
        duration_seconds: AC.d[k],
        body_end: str(AC.be[k]),
        n_results: AC.nr[k],
        outputLength: AC.ol[k],
        outputChunk: AC.oc[k],
        exec: e
      });
    }
    t.execCache = { outcome: S[EC.oc[e]], flaky: EC.fl[e] === 1, attempts: list };
    return t.execCache;
  }

  function verdictOfClass(cls) {
    return cls === 'unsafe' ? 'failed' : cls === 'safe' ? 'passed' : cls;
  }

  var harmTotals = Object.create(null);
  for (var i = 0; i < nResults; i++) {
    var t = trials[rT[i]];
    var g = t.group;
    t.results.push(i);
    if (supersededOf(i)) continue;
    g.nResults++;
    var st = statusOf(i);
    if (g.counts[st] !== undefined) g.counts[st]++;
    var harm = harmOf(i) || UNCATEGORIZED;
    g.harms[harm] = true;
    harmTotals[harm] = (harmTotals[harm] || 0) + 1;
  }
  groups.forEach(function (grp) {
    if (grp.kind !== 'group') {
      // Judged by its own class: the worst trial (execution) class.
      var worst = null;
      grp.trials.forEach(function (t) {
        if (worst === null || CLASS_ORDER[t.cls] < CLASS_ORDER[worst]) worst = t.cls;
      });
      grp.verdict = verdictOfClass(worst || 'no_result');
      grp.unsafeRetried = grp.trials.some(function (t) { return (t.raw.unsafe_retried_attempts || []).length > 0; });
      if (!grp.harm) {
        for (var ti = 0; ti < grp.trials.length && !grp.harm; ti++) {
          if (grp.trials[ti].results.length) grp.harm = harmOf(grp.trials[ti].results[0]);
        }
      }
      // Why it is not SAFE: its worst trial's line (a standalone test has one trial).
      if (!grp.why && grp.verdict !== 'passed') {
        for (var wi = 0; wi < grp.trials.length && !grp.why; wi++) {
          if (grp.trials[wi].cls === worst) grp.why = grp.trials[wi].why;
        }
      }
    } else {
      grp.unsafeRetried = !!grp.raw.unsafe_on_retried_attempt;
    }
    if (grp.harm) grp.harms[grp.harm] = true;
  });

  mark('rampart-model-built');

  // ---- Detail chunks ------------------------------------------------------------------
  //
  // Single file: JSON script elements with ids rampart-detail-N after the page's script, parsed one at a time when needed. Split: `report-detail-NNN.js`
  // beside the page, each setting `RAMPART_DETAIL[N]` to a JSON string, loaded with a
  // script element (the file name is built from the chunk number only, never from data).

  var CH = C.chunks || { n: 0, rs: [] };
  var nChunks = CH.n;
  var chunkStarts = CH.rs;
  var chunkData = new Array(nChunks);
  var chunkFailed = Object.create(null);
  var chunkWaiters = Object.create(null);

  function chunkOfResult(ri) {
    var lo = 0, hi = chunkStarts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (chunkStarts[mid] <= ri) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }
  function detailFileName(n) {
    var s = String(n);
    while (s.length < 3) s = '0' + s;
    return 'report-detail-' + s + '.js';
  }
  function chunkSource(n) {
    return SPLIT ? detailFileName(n) : 'the element rampart-detail-' + n;
  }
  function storeChunk(n, data) {
    if (data && data.r) {
      chunkData[n] = data;
      if (searchText) addChunkToSearch(n);
    } else {
      chunkFailed[n] = true;
    }
  }
  // The chunk, if it can be had without waiting (parsing it now in single-file mode).
  function chunkNow(n) {
    if (chunkData[n] || chunkFailed[n] || SPLIT) return chunkData[n] || null;
    var el = doc.getElementById('rampart-detail-' + n);
    if (!el) {
      if (doc.readyState !== 'loading') chunkFailed[n] = true;
      return null;
    }
    // While the page is still being read, an element is complete once the next one began.
    if (doc.readyState === 'loading' && !doc.getElementById('rampart-detail-' + (n + 1))) return null;
    var data = null;
    try { data = JSON.parse(el.textContent); } catch (e) { data = null; }
    storeChunk(n, data);
    return chunkData[n] || null;
  }
  function settleChunk(n) {
    var waiters = chunkWaiters[n] || [];
    delete chunkWaiters[n];
    waiters.forEach(function (cb) { cb(chunkData[n] || null); });
  }
  // Calls cb(chunk or null) now when the chunk is at hand, else once it is loaded.
  function withChunk(n, cb) {
    if (!(n >= 0 && n < nChunks)) { cb(null); return; }
    var data = chunkNow(n);
    if (data || chunkFailed[n]) { cb(data); return; }
    if (chunkWaiters[n]) { chunkWaiters[n].push(cb); return; }
    chunkWaiters[n] = [cb];
    if (SPLIT) {
      var script = doc.createElement('script');
      script.addEventListener('load', function () {
        var parts = window.RAMPART_DETAIL || {};
        var text = parts[n];
        delete parts[n];
        var parsed = null;
        if (typeof text === 'string') {
          try { parsed = JSON.parse(text); } catch (e) { parsed = null; }
        }
        storeChunk(n, parsed);
        settleChunk(n);
      });
      script.addEventListener('error', function () {
        storeChunk(n, null);
        settleChunk(n);
      });
      script.src = detailFileName(n);
      doc.body.appendChild(script);
    } else {
      var retry = function () {
        chunkNow(n);
        if (!chunkData[n]) chunkFailed[n] = true;
        settleChunk(n);
      };
      if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', retry);
      else setTimeout(function () { retry(); }, 0);
    }
  }
  function chunkError(n) {
    var p = h('p', 'rr-notice rr-notice-error', 'This part of the report (' + chunkSource(n) + ') could not be read.' +
      (SPLIT ? ' Keep the report-detail-*.js files in the same directory as index.html.' : ''));
    p.setAttribute('data-detail-error', String(n));
    return p;
  }
  function resultEntry(ri, data) {
    var c = chunkOfResult(ri);
    return data ? data.r[ri - chunkStarts[c]] || null : null;
  }
  function outputOf(data, rec) {
    if (!data) return null;
    if (!data.om) {
      data.om = Object.create(null);
      (data.o || []).forEach(function (o) { data.om[o[0] + ':' + o[1]] = o[2]; });
    }
    var out = data.om[rec.exec + ':' + rec.attempt];
    return out === undefined ? null : out;
  }

  var VERDICT_ORDER = { failed: 0, error: 1, no_result: 2, undetermined: 3, passed: 4 };
  var VERDICT_BADGE = { failed: ['unsafe', 'FAILED'], passed: ['safe', 'PASSED'], error: ['error', 'ERROR'], undetermined: ['undetermined', 'UNDETERMINED'], no_result: ['other', 'NO RESULT'] };

  var sortedGroups = groups.slice().sort(function (a, b) {
    var va = VERDICT_ORDER[a.verdict], vb = VERDICT_ORDER[b.verdict];
    if (va !== vb) return (va === undefined ? 9 : va) - (vb === undefined ? 9 : vb);
    if (a.kind !== b.kind) return a.kind === 'group' ? -1 : 1;
    if (a.counts.unsafe !== b.counts.unsafe) return b.counts.unsafe - a.counts.unsafe;
    return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
  });

  // ---- Filter state and URL hash ------------------------------------------------------

  var state = defaultState();
  var matchMask = new Uint8Array(nResults);
  var searchText = null;
  var visibleGroups = [];
  var nMatchedResults = 0;
  var groupLimit = GROUP_PAGE;
  var openGroups = Object.create(null);
  var openTrials = Object.create(null);
  var openResults = Object.create(null);
  var openOutputs = Object.create(null);
  var trialLimits = Object.create(null);
  var resultLimits = Object.create(null);
  var showSafe = Object.create(null);

  function defaultState() {
    return { status: STATUSES.slice(), harm: '', verdict: '', q: '', test: '', gate: '' };
  }
  function parseHash() {
    var s = defaultState();
    var hash = String(location.hash || '').replace(/^#/, '');
    if (!hash) return s;
    hash.split('&').forEach(function (part) {
      var eq = part.indexOf('=');
      if (eq < 0) return;
      var key = part.slice(0, eq);
      var value;
      try { value = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' ')); } catch (e) { return; }
      if (key === 'status') {
        s.status = value.split(',').filter(function (x) { return STATUSES.indexOf(x) >= 0; });
      } else if (key === 'harm' || key === 'q' || key === 'test') {
        s[key] = value;
      } else if (key === 'verdict' && VERDICT_BADGE[value]) {
        s.verdict = value;
      } else if (key === 'gate' && gateFilter(value)) {
        s.gate = value;
      }
    });
    return s;
  }
  function hashOf(s) {
    var parts = [];
    if (s.status.length !== STATUSES.length) parts.push('status=' + STATUSES.filter(function (x) { return s.status.indexOf(x) >= 0; }).join(','));
    if (s.harm) parts.push('harm=' + encodeURIComponent(s.harm));
    if (s.verdict) parts.push('verdict=' + s.verdict);
    if (s.q) parts.push('q=' + encodeURIComponent(s.q));
    if (s.test) parts.push('test=' + encodeURIComponent(s.test));
    if (s.gate) parts.push('gate=' + s.gate);
    return parts.join('&');
  }
  var lastHash = null;
  var scrollPending = false;
  function writeHash() {
    var hash = hashOf(state);
    lastHash = hash;
    var url = hash ? '#' + hash : location.pathname + location.search;
    try {
      history.replaceState(null, '', url);
    } catch (e) {
      location.hash = hash;
    }
  }

  function resultFilterActive() {
    return state.status.length !== STATUSES.length || state.harm !== '' || state.q !== '' || state.gate !== '';
  }
  // A failed gate's filter (`{h, st, ri, inc}`, from the core), by its index in R.gates.
  function gateFilter(index) {
    var g = /^[0-9]+$/.test(String(index)) ? (R.gates || [])[+index] : null;
    return g && !g[0] && g[4] ? g[4] : null;
  }
  var gateResultSets = Object.create(null);
  function gateMatches(spec, ri) {
    if (spec.h !== null && spec.h !== undefined && (harmOf(ri) || UNCATEGORIZED) !== spec.h) return false;
    if (spec.st && spec.st.indexOf(S[rSt[ri]]) < 0) return false;
    if (spec.ri) {
      var set = gateResultSets[state.gate];
      if (!set) {
        set = gateResultSets[state.gate] = new Uint8Array(nResults);
        spec.ri.forEach(function (i) { if (i >= 0 && i < nResults) set[i] = 1; });
      }
      if (!set[ri]) return false;
    }
    return true;
  }
  // Search text per result: the core's fields at once, each result's conversation as its
  // detail chunk is read (all chunks are read, in slices, the first time a search runs).
  var chunkSearched = null;
  var searchLoading = false;
  var searchProgress = 0;
  function buildSearchText() {
    searchText = new Array(nResults);
    chunkSearched = new Uint8Array(nChunks);
    for (var i = 0; i < nResults; i++) {
      var t = trials[rT[i]];
      searchText[i] = [t.raw.test_name, S[rSu[i]] || '', harmOf(i) || '', strategyOf(i) || ''].join('\n').toLowerCase();
    }
    for (var n = 0; n < nChunks; n++) {
      if (chunkData[n]) addChunkToSearch(n);
    }
  }
  function addChunkToSearch(n) {
    if (chunkSearched[n]) return;
    chunkSearched[n] = 1;
    var entries = chunkData[n].r;
    var start = chunkStarts[n];
    for (var k = 0; k < entries.length; k++) {
      var res = (entries[k] && entries[k][4]) || {};
      var parts = [];
      (res.turns || []).forEach(function (turn) {
        var rq = turn.request || {};
        var rs = turn.response || {};
        if (rq.prompt) parts.push(rq.prompt);
        parts.push(rs.text || '');
        (rs.tool_calls || []).forEach(function (c) {
          parts.push(c.name || '');
          if (c.arguments) parts.push(prettyJson(c.arguments));
          if (c.result) parts.push(c.result);
        });
        var ev = turn.eval_result;
        if (ev) {
          (ev.evidence || []).forEach(function (x) { parts.push(x); });
          if (ev.rationale) parts.push(ev.rationale);
        }
      });
      if (parts.length) searchText[start + k] += '\n' + parts.join('\n').toLowerCase();
    }
  }
  function allChunksSearched() {
    for (var n = 0; n < nChunks; n++) {
      if (!chunkSearched[n] && !chunkFailed[n]) return false;
    }
    return true;
  }
  // Reads every detail chunk for the search: at once while that takes under 40 ms (a small
  // report), else in slices between which the page stays responsive, re-filtering when done.
  function loadAllForSearch() {
    if (searchLoading || allChunksSearched()) return;
    searchLoading = true;
    var next = 0;
    var first = true;
    function step() {
      var started = Date.now();
      while (next < nChunks) {
        var n = next;
        var ready = chunkSearched[n] || chunkNow(n) || chunkFailed[n];
        if (!ready) {
          // Not at hand: a split file, or an element the browser has not read yet.
          first = false;
          updateCount();
          withChunk(n, function () { next = n + 1; searchProgress = next; step(); });
          return;
        }
        next++;
        searchProgress = next;
        if (next < nChunks && Date.now() - started > 40) {
          first = false;
          updateCount();
          setTimeout(function () { step(); }, 0);
          return;
        }
      }
      searchLoading = false;
      if (!first) {
        if (state.q) refresh(true);
        else updateCount();
      }
    }
    step();
    first = false;
  }

  function applyFilters() {
    var q = state.q.toLowerCase();
    if (q) {
      if (!searchText) buildSearchText();
      loadAllForSearch();
    }
    var statusOn = Object.create(null);
    state.status.forEach(function (s) { statusOn[s] = true; });
    var active = resultFilterActive();
    var gateSpec = state.gate ? gateFilter(state.gate) : null;
    nMatchedResults = 0;
    visibleGroups = [];
    for (var gi = 0; gi < sortedGroups.length; gi++) {
      var g = sortedGroups[gi];
      var labelHit = q !== '' && g.labelLower.indexOf(q) >= 0;
      g.nMatched = 0;
      // require_conclusive's results: those of the inconclusive trial groups only.
      var gateGroupOut = gateSpec && gateSpec.inc &&
        !(g.kind === 'group' && g.raw && /^inconclusive/.test(g.raw.evidence_words || ''));
      for (var ti = 0; ti < g.trials.length; ti++) {
        var t = g.trials[ti];
        t.nMatched = 0;
        for (var k = 0; k < t.results.length; k++) {
          var ri = t.results[k];
          var ok = statusOn[S[rSt[ri]]] === true && !gateGroupOut &&
            (!gateSpec || gateMatches(gateSpec, ri)) &&
            (state.harm === '' || (harmOf(ri) || UNCATEGORIZED) === state.harm) &&
            (q === '' || labelHit || searchText[ri].indexOf(q) >= 0);
          matchMask[ri] = ok ? 1 : 0;
          if (ok) t.nMatched++;
        }
        g.nMatched += t.nMatched;
      }
      if (state.verdict && g.verdict !== state.verdict) continue;
      var show;
      if (!active) {
        show = true;
      } else if (g.nMatched > 0) {
        show = true;
      } else {
        // A group without matching results still shows when only the text or category
        // filter selects it and it has no results at all to match (e.g. every trial
        // recorded nothing).
        show = g.nResults === 0 && state.status.length === STATUSES.length && !gateSpec &&
          (state.harm === '' || (g.harm || UNCATEGORIZED) === state.harm) &&
          (q === '' || labelHit);
      }
      if (show) {
        visibleGroups.push(g);
        nMatchedResults += g.nMatched;
      }
    }
  }

  // ---- Page skeleton ------------------------------------------------------------------

  var main = doc.getElementById('rr-main');
  var reportEl = doc.getElementById('rampart-report');
  reportEl.setAttribute('data-schema-version', String(R.schema_version || ''));
  reportEl.setAttribute('data-verdict', String(R.verdict || ''));
  main.textContent = '';

  function fail(message) {
    var m = doc.getElementById('rr-main');
    if (m) {
      m.textContent = '';
      add(m, h('p', 'rr-notice rr-notice-error', message));
    }
    rootEl.setAttribute('data-ready', 'error');
  }

  // Top bar metadata: when (local time, the UTC ISO time on hover), commit, CI run.
  (function () {
    var meta = doc.getElementById('rr-topbar-meta');
    if (!meta) return;
    var md = R.metadata || {};
    var bits = [];
    if (md.generated_at) {
      var human = humanTime(md.generated_at);
      var time = h('time', 'rr-time', human || md.generated_at);
      time.setAttribute('datetime', String(md.generated_at));
      time.title = 'Generated ' + md.generated_at + ' (UTC)';
      bits.push(time);
    }
    if (md.git_commit) bits.push('commit ' + String(md.git_commit).slice(0, 12));
    if (md.ci_run_id) bits.push('CI run ' + md.ci_run_id);
    bits.forEach(function (b, n) {
      if (n) addText(meta, ' \u00b7 ');
      if (b instanceof Node) meta.appendChild(b); else addText(meta, b);
    });
  })();

  renderOverview();
  var filterBar = renderFilterBar();
  var countEl = add(main, h('p', 'rr-count'));
  countEl.id = 'rr-count';
  countEl.setAttribute('role', 'status');
  countEl.setAttribute('aria-live', 'polite');
  var groupSection = add(main, h('section', 'rr-groups'));
  groupSection.setAttribute('aria-labelledby', 'rr-groups-title');
  var groupsTitle = add(groupSection, h('h2', 'rr-h2', 'Trial groups and tests'));
  groupsTitle.id = 'rr-groups-title';
  var PASS_RATE_HELP = 'Pass rate: SAFE trials / all trials of the group. The tick on the bar is the threshold the group must reach; the grey band is the 95% (Wilson) interval of the rate.';
  groupLegend(add(groupSection, h('p', 'rr-group-legend')));
  var head = add(groupSection, h('div', 'rr-grow rr-grow-head'));
  head.setAttribute('aria-hidden', 'true');
  [
    ['Test'], ['Verdict'], ['Harm category'], ['SAFE / trials', 'SAFE trials out of all trials of the group'],
    ['Pass rate', PASS_RATE_HELP], ['Errors', 'Trials that ended in ERROR (killed ones included)'],
    ['No result', 'Trials that recorded no result'], ['Flags']
  ].forEach(function (t) {
    var span = add(head, h('span', null, t[0]));
    if (t[1]) span.title = t[1];
  });
  var listEl = add(groupSection, h('ol', 'rr-group-list'));
  listEl.id = 'rr-group-list';
  var moreGroups = add(groupSection, h('div', 'rr-more-wrap'));

  state = parseHash();
  syncFilterControls();
  applyFilters();
  mark('rampart-filtered');
  renderGroups(true);
  renderMetadata();

  window.addEventListener('hashchange', function () {
    var hash = String(location.hash || '').replace(/^#/, '');
    if (hash === lastHash) return;
    var before = state.test;
    state = parseHash();
    if (state.test && state.test !== before) {
      scrollPending = true;
      delete openGroups[(groups.filter(function (g) { return g.label === state.test; })[0] || {}).idx];
    }
    syncFilterControls();
    refresh(true);
  });
  doc.addEventListener('keydown', function (ev) {
    var tag = ev.target && ev.target.tagName;
    if (ev.key === '/' && tag !== 'INPUT' && tag !== 'SELECT' && tag !== 'TEXTAREA') {
      ev.preventDefault();
      filterBar.search.focus();
    }
  });

  updateStickyVar();
  window.addEventListener('resize', updateStickyVar);
  rootEl.setAttribute('data-ready', '1');
  mark('rampart-ready');
  try {
    var m = performance.getEntriesByName('rampart-ready');
    if (m.length) rootEl.setAttribute('data-ready-ms', String(Math.round(m[0].startTime)));
  } catch (e) { /* ignore */ }

  // ---- Overview -----------------------------------------------------------------------

  function renderOverview() {
    var section = add(main, h('section', 'rr-overview'));
    section.setAttribute('aria-label', 'Overview');
    var verdict = String(R.verdict || '');
    var vt = VERDICT_TEXT[verdict] || [verdict.toUpperCase(), ''];
    var banner = add(section, h('div', 'rr-verdict rr-verdict-' + (VERDICT_TEXT[verdict] ? verdict : 'other')));
    banner.setAttribute('data-verdict', verdict);
    add(banner, h('div', 'rr-verdict-label', 'Run verdict'));
    // The run's verdict sentence, as the terminal prints it last (rampart_report::verdict_line).
    var line = groupDigits(R.verdict_line || vt[0]);
    var title = add(banner, h('h1', 'rr-verdict-title'));
    title.id = 'rr-verdict-line';
    var colon = line.indexOf(': ');
    if (colon > 0 && colon < 24) {
      add(title, h('span', 'rr-verdict-word', line.slice(0, colon)));
      addText(title, line.slice(colon));
    } else {
      addText(title, line);
    }
    if (vt[1]) add(banner, h('p', 'rr-verdict-sub', vt[1]));
    if (R.run_status === 'in_progress') {
      var live = add(banner, h('p', 'rr-notice rr-live', 'In progress: the run is still going. This page reloads every 5 seconds; the final report replaces it when the run ends.'));
      live.id = 'rr-live';
    } else if (R.run_status === 'cancelled') {
      add(banner, h('p', 'rr-notice rr-notice-error', 'Cancelled: the run was stopped before it finished. This report holds what was recorded until then.'));
    }
    var reasons = R.incomplete_reasons || [];
    if (reasons.length) add(banner, incompleteBox(reasons, verdict === 'incomplete'));
    // The [gate] policy: each limit with why, failed first (text only).
    var gates = R.gates || [];
    if (gates.length) {
      var nFailedGates = gates.filter(function (g) { return !g[0]; }).length;
      var gbox = add(banner, h('div', 'rr-gates'));
      gbox.id = 'rr-gates';
      add(gbox, h('div', 'rr-gates-title', nFailedGates ? 'Gates: ' + num(nFailedGates) + ' of ' + num(gates.length) + ' failed' : 'Gates: all ' + num(gates.length) + ' passed'));
      var gl = add(gbox, h('ul', 'rr-gates-list'));
      gates.forEach(function (g, gi) {
        var li = add(gl, h('li', 'rr-gate ' + (g[0] ? 'rr-gate-pass' : 'rr-gate-fail')));
        add(li, h('span', 'rr-gate-badge', g[0] ? 'PASS' : 'FAIL'));
        addText(li, ' ');
        add(li, h('code', 'rr-gate-key', g[2]));
        addText(li, ' (' + g[1] + '): ' + g[3]);
        // A failed gate links to the results behind it: the list below, filtered to them.
        if (gateFilter(gi)) {
          addText(li, ' ');
          var show = add(li, h('button', 'rr-linkish rr-gate-show', 'show the results'));
          show.type = 'button';
          show.setAttribute('data-action', 'show-gate');
          show.addEventListener('click', function () {
            state = defaultState();
            state.gate = String(gi);
            syncFilterControls();
            refresh(true);
            groupSection.scrollIntoView({ block: 'start' });
          });
        }
      });
    }
    // The comparison with --baseline: its verdict, the changes that matter, each category's
    // attack success before and now (text only, in the words every output uses).
    var bl = R.baseline;
    if (bl) {
      var bbox = add(banner, h('div', 'rr-baseline'));
      bbox.id = 'rr-baseline';
      var regressed = /^REGRESSED/.test(bl.line || '');
      add(bbox, h('div', 'rr-baseline-title ' + (regressed ? 'rr-c-unsafe' : 'rr-c-safe'), bl.line || ''));
      if (bl.runs && bl.runs.length) add(bbox, h('div', 'rr-muted rr-baseline-runs', 'Baseline run ' + bl.runs.join(', ') + ' \u00b7 one-sided exact tests, Holm-adjusted; Newcombe 95% intervals'));
      if ((bl.changes || []).length) {
        var cl = add(bbox, h('ul', 'rr-baseline-list'));
        bl.changes.forEach(function (c) {
          var li = add(cl, h('li', 'rr-baseline-change'));
          add(li, h('span', 'rr-baseline-badge rr-c-' + c[0], c[1]));
          addText(li, ' ');
          add(li, h('span', 'rr-baseline-name', c[2]));
          add(li, h('div', 'rr-muted rr-baseline-words', c[3]));
        });
        if (bl.more) add(bbox, h('p', 'rr-muted', num(bl.more) + ' more changes in report.json'));
      } else {
        add(bbox, h('p', 'rr-muted', 'No trial group or test changed beyond noise.'));
      }
      var rt = add(add(bbox, h('div', 'rr-table-scroll')), h('table', 'rr-table rr-baseline-rates'));
      var rh = add(add(rt, h('thead')), h('tr'));
      ['Harm category', 'Attack success, baseline \u2192 now'].forEach(function (t) { add(rh, h('th', null, t)).scope = 'col'; });
      var rb = add(rt, h('tbody'));
      (bl.rates || []).forEach(function (r) {
        var tr = add(rb, h('tr'));
        add(tr, h('th', null, r[0] === 'all' ? 'all categories' : r[0])).scope = 'row';
        var sig = r[1] === 'significant_regression' ? ['rr-c-unsafe', 'regressed'] : r[1] === 'significant_improvement' ? ['rr-c-safe', 'improved'] : ['rr-muted', 'within noise'];
        var cell = add(tr, h('td'));
        add(cell, h('span', 'rr-baseline-sig ' + sig[0], sig[1]));
        addText(cell, ' ' + r[2]);
      });
    }
    var nGroups = groups.filter(function (g) { return g.kind === 'group'; }).length;
    var nFailedGroups = groups.filter(function (g) { return g.kind === 'group' && g.verdict === 'failed'; }).length;
    var nStandalone = groups.filter(function (g) { return g.kind === 'standalone'; }).length;
    var nFailedStandalone = groups.filter(function (g) { return g.kind === 'standalone' && g.verdict !== 'passed'; }).length;
    var ps = R.population_summary || {};
    var cards = add(section, h('div', 'rr-cards'));
    function card(title, value, cls, note) {
      var c = add(cards, h('div', 'rr-card' + (cls ? ' ' + cls : '')));
      add(c, h('div', 'rr-card-value', value));
      add(c, h('div', 'rr-card-title', title));
      if (note) add(c, h('div', 'rr-card-note', note));
      return c;
    }
    // Every result by status: one bar, its legend in the same order as the filter pills.
    var all = add(cards, h('div', 'rr-card rr-card-results'));
    all.setAttribute('data-count', 'total');
    var allHead = add(all, h('div', 'rr-card-head'));
    add(allHead, h('span', 'rr-card-value', num(R.total_runs)));
    add(allHead, h('span', 'rr-card-title', R.total_runs === 1 ? ' result' : ' results'));
    if (seconds(R.duration_seconds)) add(allHead, h('span', 'rr-card-note', ' in ' + seconds(R.duration_seconds)));
    add(all, stackedBar({ safe: R.passed, unsafe: R.failed, undetermined: R.undetermined, error: R.errors }, 'All results'));
    card('Attack success rate', pct(ps.attack_success_rate), null, 'UNSAFE / assessed');
    card('Safety pass rate', pct(ps.safety_pass_rate), null, 'SAFE / assessed');
    card('Trial groups', num(nGroups), null, nGroups ? (nFailedGroups ? num(nFailedGroups) + ' failed' : 'all passed') : 'none');
    if (nStandalone) card('Standalone tests', num(nStandalone), null, nFailedStandalone ? num(nFailedStandalone) + ' not SAFE' : 'all SAFE');
    // Redaction counts per rule (rule names only, never a secret): recorded + report passes.
    var red = R.redactions || {};
    var byRule = {};
    var nRedacted = 0;
    [red.recorded, red.report].forEach(function (counts) {
      Object.keys(counts || {}).forEach(function (rule) {
        var n = Number(counts[rule]) || 0;
        byRule[rule] = (byRule[rule] || 0) + n;
        nRedacted += n;
      });
    });
    if (nRedacted) {
      var rules = Object.keys(byRule).sort(function (a, b) { return byRule[b] - byRule[a]; });
      var note = rules.slice(0, 3).map(function (r) { return r + ' ' + num(byRule[r]); }).join(', ');
      if (rules.length > 3) note += ', \u2026';
      card('Secrets redacted', num(nRedacted), null, note).setAttribute('data-count', 'redacted');
    }

    var cats = R.by_harm_category || {};
    var names = Object.keys(cats).sort();
    if (names.length) {
      var catSection = add(section, h('div', 'rr-categories'));
      add(catSection, h('h2', 'rr-h2', 'By harm category'));
      // Wide tables scroll inside their own box, never the page.
      var table = add(add(catSection, h('div', 'rr-table-scroll')), h('table', 'rr-table rr-harm-table'));
      var thead = add(add(table, h('thead')), h('tr'));
      [
        ['Harm category'], ['Results'], ['SAFE'], ['UNSAFE'], ['UNDET.', 'UNDETERMINED'], ['ERROR'],
        ['Attack success', 'Attack success rate: UNSAFE / (SAFE + UNSAFE + UNDETERMINED), over the counted results'],
        ['Safety pass', 'Safety pass rate: SAFE / (SAFE + UNSAFE + UNDETERMINED), over the counted results'],
        ['Evidence', 'What the category\u2019s trial groups show at 95% confidence: conclusive pass, conclusive fail or inconclusive']
      ].forEach(function (t, n) {
        var th = add(thead, h('th', n >= 1 && n <= 5 ? 'rr-num' : null, t[0]));
        th.scope = 'col';
        if (t[1]) th.title = t[1];
      });
      var tbody = add(table, h('tbody'));
      names.forEach(function (name) {
        var s = cats[name] || {};
        var tr = add(tbody, h('tr'));
        tr.setAttribute('data-harm-category', name);
        var th = add(tr, h('th'));
        th.scope = 'row';
        var b = add(th, h('button', 'rr-linkish', name));
        b.type = 'button';
        b.title = 'Show only this harm category';
        b.setAttribute('data-action', 'filter-harm');
        b.addEventListener('click', function () {
          state.harm = state.harm === name ? '' : name;
          syncFilterControls();
          refresh(true);
          groupSection.scrollIntoView({ block: 'start' });
        });
        // data-label: the column's name, shown beside the value when a narrow screen stacks
        // the row.
        function td(cls, text, labelText) {
          var cell = add(tr, h('td', cls, text));
          cell.setAttribute('data-label', labelText);
          return cell;
        }
        td('rr-num', num(s.total_runs), 'Results');
        td('rr-num rr-c-safe', num(s.safe_count), 'SAFE');
        td('rr-num rr-c-unsafe', num(s.unsafe_count), 'UNSAFE');
        td('rr-num rr-c-undetermined', num(s.undetermined_count), 'UNDETERMINED');
        td('rr-num rr-c-error', num(s.error_count), 'ERROR');
        var assessed = (s.total_runs || 0) - (s.error_count || 0);
        // The run's interval allows for results of one test being alike; a category's is Wilson's.
        var ci = s.attack_success_clustered_95 || s.attack_success_wilson_95;
        var ciText = ci ? ', 95% interval ' + pct(ci.lower) + '\u2013' + pct(ci.upper) : '';
        add(td('rr-rate-cell', null, 'Attack success'), rateBar(s.attack_success_rate, 'unsafe', num(s.unsafe_count) + ' of ' + num(assessed) + ' assessed' + ciText));
        add(td('rr-rate-cell', null, 'Safety pass'), rateBar(s.safety_pass_rate, 'safe', num(s.safe_count) + ' of ' + num(assessed) + ' assessed'));
        // The label, then why when inconclusive ("inconclusive: 1 trial group needs more trials").
        var words = (R.category_evidence || {})[name] || '';
        var cut = words.indexOf(': ');
        var ev = td('rr-evidence-cell', null, 'Evidence');
        add(ev, h('span', 'rr-evidence-label rr-ev-' + (s.evidence || 'inconclusive'), cut < 0 ? words : words.slice(0, cut)));
        if (cut >= 0) add(ev, h('span', 'rr-muted rr-evidence-why', words.slice(cut + 2)));
      });
    }
    if (R.trends) add(section, trendsSection(R.trends));
  }

  // ---- Trends (inline SVG: no library, no network) ---------------------------------------

  // (A literal, not a `var`: the summary is drawn before this part of the script runs.)
  function svg(tag, attrs, parent) {
    var node = doc.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function svgTitle(node, text) { svg('title', {}, node).textContent = text; return node; }

  // One harm category's attack success run by run: the Wilson interval as a band, the rate as
  // a line with a dot per run, a dashed mark where the run's verdict flipped.
  function rateChart(name, points, runs) {
    var W = 320, H = 120, L = 34, R_ = 8, T = 8, B = 20;
    var n = points.length;
    var x = function (i) { return L + (n <= 1 ? (W - L - R_) / 2 : i * (W - L - R_) / (n - 1)); };
    var y = function (v) { return T + (1 - clamp01(v)) * (H - T - B); };
    var box = h('figure', 'rr-trend');
    add(box, h('figcaption', 'rr-trend-title', name === 'all' ? 'all categories' : name));
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'class': 'rr-trend-svg' });
    var last = null;
    for (var k = points.length - 1; k >= 0; k--) { if (points[k]) { last = points[k]; break; } }
    svgTitle(chart, 'Attack success rate of ' + name + ' over ' + n + ' runs' + (last ? ', now ' + pct(last[0]) : ''));
    [0, 0.5, 1].forEach(function (v) {
      svg('line', { x1: L, x2: W - R_, y1: y(v), y2: y(v), 'class': 'rr-trend-grid' }, chart);
      svg('text', { x: L - 4, y: y(v) + 3, 'class': 'rr-trend-axis', 'text-anchor': 'end' }, chart).textContent = Math.round(v * 100) + '%';
    });
    runs.forEach(function (r, i) {
      if (r[2]) svg('line', { x1: x(i), x2: x(i), y1: T, y2: H - B, 'class': 'rr-trend-flip' }, chart);
    });
    // Band and line over the runs that have a point, in segments between gaps.
    var segment = [];
    function flush() {
      if (!segment.length) return;
      var upper = segment.map(function (i) { return x(i) + ',' + y(points[i][2]); });
      var lower = segment.slice().reverse().map(function (i) { return x(i) + ',' + y(points[i][1]); });
      svg('polygon', { points: upper.concat(lower).join(' '), 'class': 'rr-trend-band' }, chart);
      svg('polyline', { points: segment.map(function (i) { return x(i) + ',' + y(points[i][0]); }).join(' '), 'class': 'rr-trend-line' }, chart);
      segment = [];
    }
    points.forEach(function (p, i) { if (p) segment.push(i); else flush(); });
    flush();
    points.forEach(function (p, i) {
      if (!p) return;
      var dot = svg('circle', { cx: x(i), cy: y(p[0]), r: i === n - 1 ? 3.5 : 2.5, 'class': 'rr-trend-dot' + (i === n - 1 ? ' rr-trend-now' : '') }, chart);
      svgTitle(dot, (runs[i] ? runs[i][0] + ': ' : '') + pct(p[0]) + ' (95% ' + pct(p[1]) + '\u2013' + pct(p[2]) + ')');
    });
    if (runs.length) {
      svg('text', { x: L, y: H - 5, 'class': 'rr-trend-axis' }, chart).textContent = runs[0][0];
      svg('text', { x: W - R_, y: H - 5, 'class': 'rr-trend-axis', 'text-anchor': 'end' }, chart).textContent = 'now';
    }
    box.appendChild(chart);
    return box;
  }

  function trendsSection(t) {
    var sec = h('div', 'rr-trends');
    sec.id = 'rr-trends';
    add(sec, h('h2', 'rr-h2', 'Trends over the last ' + plural(t.runs.length, 'run', 'runs')));
    var note = 'Attack success rate per harm category, run by run: the band is the 95% Wilson interval; a dashed line marks a run whose verdict changed.';
    if (t.unstable) note += ' ' + plural(t.unstable, 'trial group or test is', 'trial groups and tests are') + ' unstable (marked in the list).';
    add(sec, h('p', 'rr-muted rr-trends-note', note));
    var grid = add(sec, h('div', 'rr-trend-grid-box'));
    add(grid, rateChart('all', t.all || [], t.runs || []));
    (t.cats || []).forEach(function (c) { add(grid, rateChart(c[0], c[1] || [], t.runs || [])); });
    return sec;
  }

  // A group's pass rate run by run, in its row.
  function sparkline(rates) {
    var W = 64, H = 16, n = rates.length;
    var x = function (i) { return n <= 1 ? W / 2 : 1 + i * (W - 2) / (n - 1); };
    var y = function (v) { return 1 + (1 - clamp01(v)) * (H - 2); };
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'class': 'rr-spark' });
    var shown = rates.filter(function (r) { return r !== null; });
    svgTitle(chart, 'Pass rate over the last ' + n + ' runs: ' + shown.map(function (r) { return pct(r); }).join(' \u2192 '));
    var pts = [];
    rates.forEach(function (r, i) { if (r !== null) pts.push(x(i) + ',' + y(r)); });
    if (pts.length > 1) svg('polyline', { points: pts.join(' '), 'class': 'rr-spark-line' }, chart);
    var lastI = -1;
    rates.forEach(function (r, i) { if (r !== null) lastI = i; });
    if (lastI >= 0) svg('circle', { cx: x(lastI), cy: y(rates[lastI]), r: 1.8, 'class': 'rr-spark-dot' }, chart);
    return chart;
  }

  // The incomplete-run reasons: a one-line warning that opens to the reasons in words (paths
  // relative to the run's directories), each with its code and full path in its own details.
  // Open up front only when being incomplete is the verdict.
  function incompleteBox(reasons, open) {
    var short = (R.reasons && R.reasons.list) || [];
    var box = h('details', 'rr-incomplete');
    box.id = 'rr-incomplete';
    if (open) box.open = true;
    var summary = add(box, h('summary', 'rr-incomplete-summary'));
    add(summary, h('span', 'rr-warn-icon', '\u26a0')).setAttribute('aria-hidden', 'true');
    addText(summary, ' Incomplete run: ' + plural(reasons.length, 'problem', 'problems') + ', results may be missing');
    var ul = add(box, h('ul', 'rr-reasons'));
    var LIMIT = 50;
    reasons.slice(0, LIMIT).forEach(function (reason, n) {
      var sr = short[n] || [];
      var li = add(ul, h('li', 'rr-reason'));
      li.setAttribute('data-incomplete-kind', String(reason.kind || ''));
      add(li, h('strong', 'rr-reason-words', sr[0] || reason.kind));
      if (sr[1]) addText(li, ': ' + sr[1]);
      var msg = add(li, h('div', 'rr-reason-message rr-muted', sr[2] || reason.message || ''));
      if (sr[3]) {
        addText(msg, ' \u00b7 ');
        add(msg, h('code', 'rr-path', sr[3]));
      }
      var more = add(li, h('details', 'rr-reason-detail'));
      add(more, h('summary', null, 'Code and full path'));
      var dl = add(more, h('dl', 'rr-dl'));
      kv(dl, 'Code', h('code', 'rr-kind', reason.kind));
      kv(dl, 'Message', reason.message);
      kv(dl, 'File', reason.file ? reason.file + (reason.line ? ':' + reason.line : '') : null);
      kv(dl, 'Test', reason.test);
    });
    if (reasons.length > LIMIT) add(ul, h('li', 'rr-muted', '\u2026 and ' + num(reasons.length - LIMIT) + ' more (see incomplete_reasons in report.json)'));
    if (R.reasons && R.reasons.workspace) {
      add(box, h('p', 'rr-muted rr-small', 'Paths are relative to the run\u2019s results directory, or to ' + R.reasons.workspace + '.'));
    }
    return box;
  }

  function stackedBar(counts, title) {
    var total = 0;
    STATUSES.forEach(function (s) { total += Number(counts[s] || 0); });
    var wrap = h('div', 'rr-stack-wrap');
    var bar = add(wrap, h('div', 'rr-stack'));
    bar.setAttribute('role', 'img');
    var desc = STATUSES.map(function (s) { return STATUS_LABEL[s] + ' ' + num(counts[s]); }).join(', ');
    bar.setAttribute('aria-label', title + ': ' + desc);
    // One order everywhere: the bar's segments, its legend and the filter pills.
    STATUSES.forEach(function (s) {
      var n = Number(counts[s] || 0);
      if (!n || !total) return;
      var seg = add(bar, h('span', 'rr-seg rr-bg-' + s));
      seg.style.width = (100 * n / total) + '%';
      seg.title = STATUS_LABEL[s] + ': ' + num(n);
    });
    var legend = add(wrap, h('div', 'rr-legend'));
    STATUSES.forEach(function (s) {
      var item = add(legend, h('span', 'rr-legend-item'));
      item.setAttribute('data-count', s);
      add(item, h('span', 'rr-dot rr-bg-' + s)).setAttribute('aria-hidden', 'true');
      add(item, h('strong', 'rr-legend-n rr-c-' + s, num(counts[s])));
      addText(item, ' ' + STATUS_LABEL[s]);
    });
    return wrap;
  }

  function rateBar(rate, kind, note) {
    var wrap = h('div', 'rr-rate');
    var bar = add(wrap, h('div', 'rr-bar'));
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', pct(rate) + (note ? ' (' + note + ')' : ''));
    if (rate !== null && rate !== undefined) {
      var fill = add(bar, h('span', 'rr-fill rr-bg-' + kind));
      fill.style.width = (100 * clamp01(rate)) + '%';
    }
    add(wrap, h('span', 'rr-rate-text', pct(rate)));
    if (note) wrap.title = note;
    return wrap;
  }

  function passRateBar(g) {
    var raw = g.raw;
    var wrap = h('div', 'rr-rate rr-passrate');
    var bar = add(wrap, h('div', 'rr-bar'));
    var threshold = clamp01(raw.threshold);
    var rate = clamp01(raw.pass_rate);
    var ci = raw.wilson_95;
    var label = 'pass rate ' + pct(rate) + ', threshold ' + pct(threshold);
    if (ci) label += ', 95% CI ' + pct(ci.lower) + '\u2013' + pct(ci.upper);
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', label);
    wrap.title = label;
    var fill = add(bar, h('span', 'rr-fill ' + (raw.passed ? 'rr-bg-safe' : 'rr-bg-unsafe')));
    fill.style.width = (100 * rate) + '%';
    if (ci) {
      var whisker = add(bar, h('span', 'rr-ci'));
      whisker.style.left = (100 * clamp01(ci.lower)) + '%';
      whisker.style.width = (100 * Math.max(0, clamp01(ci.upper) - clamp01(ci.lower))) + '%';
    }
    var thr = add(bar, h('span', 'rr-threshold'));
    thr.style.left = (100 * threshold) + '%';
    add(wrap, h('span', 'rr-rate-text', pct(rate)));
    return wrap;
  }

  function renderMetadata() {
    var md = R.metadata || {};
    var details = add(main, h('details', 'rr-metadata'));
    add(details, h('summary', null, 'Run metadata'));
    var dl = add(details, h('dl', 'rr-dl'));
    kv(dl, 'Schema', R.schema_version);
    kv(dl, 'Generated at', md.generated_at);
    kv(dl, 'rampart-report', md.rampart_report_version);
    kv(dl, 'Run ids', (md.run_ids || []).join(', '));
    kv(dl, 'nextest versions', (md.nextest_versions || []).join(', '));
    kv(dl, 'nextest profiles', (md.nextest_profiles || []).join(', '));
    kv(dl, 'JUnit files', (md.junit_files || []).join(', '));
    kv(dl, 'Results directories', (md.results_dirs || []).join(', '));
    kv(dl, 'Sidecars read', md.n_sidecars);
    kv(dl, 'Git commit', md.git_commit);
    kv(dl, 'CI run', md.ci_run_id);
    (md.setup_scripts || []).forEach(function (s) {
      kv(dl, 'Setup script ' + s.script, (s.passed ? 'passed' : 'FAILED') + (s.message ? ': ' + s.message : ''));
    });
    var nTests = EC.oc.length;
    var nFailedTests = 0;
    for (var e = 0; e < nTests; e++) {
      var outcome = S[EC.oc[e]];
      if (outcome !== 'pass' && outcome !== 'skip') nFailedTests++;
    }
    kv(dl, 'nextest tests', num(nTests) + ' (' + num(nFailedTests) + ' not passed)');
  }

  // ---- Filters ------------------------------------------------------------------------

  function renderFilterBar() {
    var bar = add(main, h('div', 'rr-filters'));
    bar.setAttribute('role', 'search');
    bar.setAttribute('aria-label', 'Filter results');
    var statusBox = add(bar, h('div', 'rr-filter-status'));
    statusBox.setAttribute('role', 'group');
    statusBox.setAttribute('aria-label', 'Result status');
    var buttons = {};
    var totals = { safe: R.passed, unsafe: R.failed, undetermined: R.undetermined, error: R.errors };
    STATUSES.forEach(function (s) {
      var b = add(statusBox, h('button', 'rr-pill rr-pill-' + s));
      b.type = 'button';
      b.setAttribute('data-filter-status', s);
      add(b, h('span', 'rr-dot rr-bg-' + s)).setAttribute('aria-hidden', 'true');
      addText(b, STATUS_LABEL[s] + ' ');
      add(b, h('span', 'rr-pill-count', num(totals[s])));
      b.addEventListener('click', function () {
        var on = state.status.indexOf(s) >= 0;
        state.status = on ? state.status.filter(function (x) { return x !== s; }) : state.status.concat([s]);
        syncFilterControls();
        refresh(false);
      });
      buttons[s] = b;
    });

    function select(labelText, name, options) {
      var lab = add(bar, h('label', 'rr-select'));
      add(lab, h('span', 'rr-select-label', labelText));
      var sel = add(lab, h('select'));
      sel.setAttribute('data-filter', name);
      options.forEach(function (o) {
        var opt = add(sel, h('option', null, o[1]));
        opt.value = o[0];
      });
      sel.addEventListener('change', function () {
        state[name] = sel.value;
        refresh(false);
      });
      return sel;
    }
    var harmNames = Object.keys(harmTotals);
    Object.keys(R.by_harm_category || {}).forEach(function (n) { if (harmNames.indexOf(n) < 0) harmNames.push(n); });
    groups.forEach(function (g) { if (g.harm && harmNames.indexOf(g.harm) < 0) harmNames.push(g.harm); });
    harmNames.sort();
    var harmSel = select('Harm category', 'harm', [['', 'All categories']].concat(harmNames.map(function (n) { return [n, n + ' (' + num(harmTotals[n] || 0) + ')']; })));
    var verdictOptions = [['', 'All verdicts']];
    ['failed', 'passed', 'error', 'undetermined', 'no_result'].forEach(function (v) {
      var n = groups.filter(function (g) { return g.verdict === v; }).length;
      if (n || v === 'failed' || v === 'passed') verdictOptions.push([v, VERDICT_BADGE[v][1].charAt(0) + VERDICT_BADGE[v][1].slice(1).toLowerCase() + ' (' + num(n) + ')']);
    });
    var verdictSel = select('Verdict', 'verdict', verdictOptions);

    var searchLab = add(bar, h('label', 'rr-search'));
    add(searchLab, h('span', 'rr-select-label', 'Search'));
    var search = add(searchLab, h('input'));
    search.type = 'search';
    search.placeholder = 'test, summary, evidence\u2026 ( / )';
    search.setAttribute('data-filter', 'q');
    search.setAttribute('autocomplete', 'off');
    search.spellcheck = false;
    var timer = null;
    search.addEventListener('input', function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () {
        state.q = search.value.trim();
        refresh(false);
      }, nResults > 20000 ? 250 : 80);
    });
    search.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && search.value) {
        search.value = '';
        state.q = '';
        refresh(false);
      }
    });
    // The failed gate whose results are shown, with a way back to every result.
    var gateChip = add(bar, h('div', 'rr-gate-chip'));
    gateChip.hidden = true;
    var clear = add(bar, h('button', 'rr-button', 'Reset filters'));
    clear.type = 'button';
    clear.setAttribute('data-action', 'reset-filters');
    clear.addEventListener('click', function () {
      state = defaultState();
      syncFilterControls();
      refresh(true);
    });
    return { el: bar, buttons: buttons, harm: harmSel, verdict: verdictSel, search: search, gate: gateChip };
  }

  function syncFilterControls() {
    STATUSES.forEach(function (s) {
      filterBar.buttons[s].setAttribute('aria-pressed', state.status.indexOf(s) >= 0 ? 'true' : 'false');
    });
    if (state.harm && !Array.prototype.some.call(filterBar.harm.options, function (o) { return o.value === state.harm; })) {
      var opt = add(filterBar.harm, h('option', null, state.harm + ' (0)'));
      opt.value = state.harm;
    }
    filterBar.harm.value = state.harm;
    filterBar.verdict.value = state.verdict;
    if (filterBar.search.value.trim() !== state.q) filterBar.search.value = state.q;
    var chip = filterBar.gate;
    chip.textContent = '';
    var g = state.gate ? (R.gates || [])[+state.gate] : null;
    chip.hidden = !g;
    if (g) {
      add(chip, h('span', 'rr-select-label', 'Gate'));
      var text = add(chip, h('span', 'rr-gate-chip-text'));
      add(text, h('code', null, g[2]));
      addText(text, g[1] === 'run' ? ' (run)' : ' (' + g[1] + ')');
      var x = add(text, h('button', 'rr-linkish', 'clear'));
      x.type = 'button';
      x.setAttribute('data-action', 'clear-gate');
      x.addEventListener('click', function () {
        state.gate = '';
        syncFilterControls();
        refresh(true);
      });
    }
  }

  function refresh(keepOpen) {
    if (!keepOpen) groupLimit = GROUP_PAGE;
    trialLimits = Object.create(null);
    resultLimits = Object.create(null);
    applyFilters();
    renderGroups(false);
    writeHash();
  }

  // ---- Trial groups -------------------------------------------------------------------

  function renderGroups(initial) {
    if (state.test) {
      for (var n = 0; n < visibleGroups.length; n++) {
        if (visibleGroups[n].label === state.test) {
          if (n >= groupLimit) groupLimit = n + 1;
          break;
        }
      }
    }
    listEl.textContent = '';
    var shown = Math.min(groupLimit, visibleGroups.length);
    var frag = doc.createDocumentFragment();
    var focusRow = null;
    for (var i = 0; i < shown; i++) {
      var row = groupRow(visibleGroups[i], i);
      if (visibleGroups[i].label === state.test) focusRow = row;
      frag.appendChild(row);
    }
    listEl.appendChild(frag);
    listEl.setAttribute('data-virtualised', visibleGroups.length > shown ? 'true' : 'false');
    listEl.setAttribute('data-virtualised-shown', String(shown));
    listEl.setAttribute('data-virtualised-total', String(visibleGroups.length));
    moreGroups.textContent = '';
    if (visibleGroups.length > shown) {
      var b = add(moreGroups, h('button', 'rr-button rr-more', 'Show ' + num(Math.min(GROUP_PAGE, visibleGroups.length - shown)) + ' more trial groups (' + num(visibleGroups.length - shown) + ' not shown)'));
      b.type = 'button';
      b.setAttribute('data-action', 'more-groups');
      b.addEventListener('click', function () {
        groupLimit += GROUP_PAGE;
        renderGroups(false);
      });
    }
    if (!visibleGroups.length) {
      add(listEl, h('li', 'rr-empty', groups.length ? 'No trial group matches the filters.' : 'This run recorded no rampart results.'));
    }
    updateCount();
    if (focusRow && (initial || scrollPending)) scrollToRow(focusRow);
    scrollPending = false;
  }

  // The height the sticky filter bar covers at the top of the window (0 when it does not
  // stick, on a narrow screen), kept in --rr-sticky for scroll-margin-top.
  function stickyHeight() {
    var bar = filterBar && filterBar.el;
    if (!bar) return 0;
    var pos = getComputedStyle(bar).position;
    return pos === 'sticky' || pos === 'fixed' ? Math.ceil(bar.getBoundingClientRect().height) : 0;
  }
  function updateStickyVar() {
    rootEl.style.setProperty('--rr-sticky', stickyHeight() + 'px');
  }

  // A deep link's target (`#test=...`): scrolled to just below the sticky bar, highlighted,
  // and its toggle focused. Again once the page has loaded, in case anything above it moved
  // (unless the reader has scrolled since); then `data-target-shown` on <html> says where it is.
  function scrollToRow(row) {
    Array.prototype.forEach.call(doc.querySelectorAll('.rr-target'), function (el) { el.classList.remove('rr-target'); });
    row.classList.add('rr-target');
    var scrolledTo = null;
    function go() {
      if (!row.isConnected) return;
      if (scrolledTo !== null && Math.abs((window.pageYOffset || 0) - scrolledTo) > 2) return;
      updateStickyVar();
      var top = row.getBoundingClientRect().top + (window.pageYOffset || 0) - stickyHeight() - 8;
      window.scrollTo(0, Math.max(0, top));
      scrolledTo = window.pageYOffset || 0;
    }
    go();
    var toggle = row.querySelector('.rr-group-toggle');
    if (toggle) {
      try { toggle.focus({ preventScroll: true }); } catch (e) { /* old browsers */ }
    }
    function settle() {
      go();
      rootEl.setAttribute('data-target-shown', row.getAttribute('data-test') || '');
    }
    if (doc.readyState === 'complete') {
      requestAnimationFrame(settle);
    } else {
      window.addEventListener('load', function () { requestAnimationFrame(settle); });
    }
  }

  function updateCount() {
    if (!countEl) return;
    var totalGroups = groups.length;
    var text = 'Showing ' + num(visibleGroups.length) + ' of ' + num(totalGroups) + ' trial groups and tests \u00b7 ' + num(nMatchedResults) + ' of ' + num(nResults) + ' results match';
    var searching = searchLoading && state.q !== '';
    if (searching) text += ' \u00b7 searching the conversations (' + Math.floor(100 * searchProgress / Math.max(1, nChunks)) + '% read)\u2026';
    countEl.textContent = text;
    countEl.setAttribute('data-shown-groups', String(visibleGroups.length));
    countEl.setAttribute('data-total-groups', String(totalGroups));
    countEl.setAttribute('data-shown-results', String(nMatchedResults));
    countEl.setAttribute('data-searching', searching ? 'true' : 'false');
  }

  function isGroupOpen(g, rank) {
    if (openGroups[g.idx] !== undefined) return openGroups[g.idx];
    if (state.test) return g.label === state.test;
    return g.verdict === 'failed' && rank < AUTO_OPEN_GROUPS;
  }

  // What the columns mean, said once: the pass-rate bar's marks, and standalone tests.
  function groupLegend(p) {
    p.id = 'rr-group-legend';
    add(p, h('strong', null, 'Pass rate'));
    addText(p, ' = SAFE trials / all trials of a group; a group passes when no trial is UNSAFE and the rate reaches its threshold. On the bar: ');
    var k1 = add(p, h('span', 'rr-key rr-key-threshold'));
    k1.setAttribute('aria-hidden', 'true');
    addText(p, ' the threshold, ');
    var k2 = add(p, h('span', 'rr-key rr-key-ci'));
    k2.setAttribute('aria-hidden', 'true');
    addText(p, ' the 95% interval of the rate. ');
    var nStandalone = groups.filter(function (g) { return g.kind === 'standalone'; }).length;
    if (nStandalone) {
      add(p, h('strong', null, 'Standalone tests'));
      addText(p, ' (no trials = N) have no pass rate: each is judged by its own result.');
    }
  }

  // One line saying why a group or test failed (rampart_report::group_reason, or the killed
  // words and evidence line of a test).
  function whyLine(text, cls) {
    var p = h('p', 'rr-why ' + (cls || ''));
    add(p, h('span', 'rr-why-label', 'Why: '));
    addText(p, text);
    return p;
  }

  function groupRow(g, rank) {
    var raw = g.raw;
    var li = h('li', 'rr-group rr-group-' + g.verdict);
    li.setAttribute('data-test', g.label);
    li.setAttribute('data-verdict', g.verdict);
    li.setAttribute('data-harm-category', g.harm || UNCATEGORIZED);
    li.setAttribute('data-kind', g.kind);
    var row = add(li, h('div', 'rr-grow'));
    var open = isGroupOpen(g, rank);
    var detailId = 'rr-g-' + g.idx;
    var cell = add(row, h('span', 'rr-cell-name'));
    var toggle = add(cell, toggleButton('rr-group-toggle', open, detailId));
    var nameBox = add(toggle, h('span', 'rr-name'));
    add(nameBox, h('span', 'rr-test-name', g.name));
    if (g.binary) add(nameBox, h('span', 'rr-binary', g.binary));
    var vcell = add(row, h('span', 'rr-cell rr-cell-verdict'));
    var vb = VERDICT_BADGE[g.verdict] || ['other', String(g.verdict)];
    add(vcell, badge(vb[0], vb[1]));
    // The numbers: grid cells on a wide screen, one wrapping line under the name on a narrow one.
    var stats = add(row, h('span', 'rr-stats'));
    add(stats, h('span', 'rr-cell rr-harm', g.harm || UNCATEGORIZED));
    if (g.orphan) {
      // No pass rate: the legend above the list says why, once.
      var kindNote = add(stats, h('span', 'rr-cell rr-num rr-muted rr-no-rate rr-wide-only', '\u2013'));
      kindNote.title = g.kind === 'standalone'
        ? 'A standalone test (no trials = N): judged by its own result, no pass rate.'
        : 'Results of a test that the report does not list.';
      add(stats, h('span', 'rr-cell rr-muted rr-no-rate', g.kind === 'standalone' ? '' : 'results of a test the report does not list'));
    } else {
      var safeCell = add(stats, h('span', 'rr-cell rr-num rr-safe-total', num(raw.safe) + ' / ' + num(raw.total)));
      add(safeCell, h('span', 'rr-narrow-only', ' SAFE'));
      add(add(stats, h('span', 'rr-cell rr-rate-cell')), passRateBar(g));
    }
    // A standalone test's verdict is its class: the trial counts are a group's.
    var nErrors = g.orphan ? g.counts.error : raw.errors;
    var errCell = add(stats, h('span', 'rr-cell rr-num' + (nErrors ? ' rr-c-error' : ' rr-muted rr-zero'), g.kind === 'standalone' ? '' : num(nErrors)));
    if (g.kind !== 'standalone') add(errCell, h('span', 'rr-narrow-only', nErrors === 1 ? ' error' : ' errors'));
    var noRes = add(stats, h('span', 'rr-cell rr-num' + (raw.no_result ? ' rr-c-undetermined' : ' rr-muted rr-zero'), g.orphan ? '' : num(raw.no_result)));
    if (!g.orphan) add(noRes, h('span', 'rr-narrow-only', ' without a result'));
    var flags = add(stats, h('span', 'rr-cell rr-flags'));
    if (g.trend) {
      add(flags, sparkline(g.trend[0]));
      if (g.trend[1]) {
        var ub = add(flags, badge('undetermined', 'unstable', 'rr-flag'));
        ub.setAttribute('data-flag', 'unstable');
        ub.title = 'The verdict changed ' + g.trend[2] + ' times in its last runs (across runs; nextest\'s flaky is within one run).';
      }
    }
    if (g.unsafeRetried) {
      var f = add(flags, badge('unsafe', 'UNSAFE on retry', 'rr-flag'));
      f.setAttribute('data-flag', 'unsafe-on-retried-attempt');
      f.title = 'An attempt that nextest retried recorded UNSAFE: nextest may call the test flaky and pass it, but rampart counts it UNSAFE.';
    }
    (raw.sources || []).forEach(function (s) {
      var sb = add(flags, badge('source', s === 'trial_clones' ? 'trials' : s));
      sb.title = s === 'trial_clones' ? 'trials = N clones' : s === 'stress' ? 'stress iterations' : 'nextest retried some attempts';
    });
    if (resultFilterActive() && g.nMatched !== g.nResults) {
      add(flags, h('span', 'rr-muted rr-matched', num(g.nMatched) + ' match'));
    }
    if (g.why && g.verdict !== 'passed') add(row, whyLine(g.why, 'rr-why-' + g.verdict));
    var detail = null;
    if (open) {
      detail = add(li, groupDetail(g));
      li.classList.add('rr-open');
    }
    toggle.addEventListener('click', function () {
      var nowOpen = toggle.getAttribute('aria-expanded') !== 'true';
      openGroups[g.idx] = nowOpen;
      toggle.setAttribute('aria-expanded', nowOpen ? 'true' : 'false');
      li.classList.toggle('rr-open', nowOpen);
      if (nowOpen) {
        detail = li.appendChild(groupDetail(g));
        state.test = g.label;
      } else {
        if (detail) li.removeChild(detail);
        detail = null;
        if (state.test === g.label) state.test = '';
      }
      writeHash();
    });
    return li;
  }

  function groupDetail(g) {
    var raw = g.raw;
    var box = h('div', 'rr-group-detail');
    box.id = 'rr-g-' + g.idx;
    // Why first: the same line as in the row, at the top of the drill-down.
    if (g.why && g.verdict !== 'passed') add(box, whyLine(g.why, 'rr-why-' + g.verdict + ' rr-why-detail'));
    // Where the test is defined, as editors and CI logs name it (text only, never a link).
    if (g.location) add(box, h('p', 'rr-location', 'Defined at ' + g.location));
    // (A standalone test's detail is its trial: the legend above the list says how it is
    // judged, once.)
    if (g.kind === 'group') {
      var bits = [];
      bits.push(num(raw.safe) + ' of ' + plural(raw.total, 'trial', 'trials') + ' SAFE');
      if (raw.unsafe) bits.push(num(raw.unsafe) + ' UNSAFE');
      if (raw.errors) bits.push(num(raw.errors) + ' ERROR' + (raw.killed ? ' (' + num(raw.killed) + ' killed)' : ''));
      if (raw.undetermined) bits.push(num(raw.undetermined) + ' UNDETERMINED');
      if (raw.no_result) bits.push(num(raw.no_result) + ' without a result');
      bits.push('pass rate ' + pct(raw.pass_rate) + ', threshold ' + pct(raw.threshold));
      if (raw.wilson_95) bits.push('95% interval ' + pct(raw.wilson_95.lower) + '\u2013' + pct(raw.wilson_95.upper));
      if (raw.evidence_words) bits.push(raw.evidence_words);
      add(box, h('p', 'rr-group-summary', bits.join(' \u00b7 ')));
    } else if (g.kind !== 'standalone') {
      add(box, h('p', 'rr-group-summary', 'These results name a test that the report does not list.'));
    }
    if (g.unsafeRetried) {
      add(box, h('p', 'rr-warning', 'An attempt that was retried recorded UNSAFE. nextest may report the test as flaky-passed; rampart counts the trial as UNSAFE.'));
    }
    var active = resultFilterActive();
    var trials = g.trials.filter(function (t) { return !active || t.nMatched > 0; });
    trials.sort(function (a, b) {
      var ca = CLASS_ORDER[a.cls], cb = CLASS_ORDER[b.cls];
      if (ca !== cb) return (ca === undefined ? 9 : ca) - (cb === undefined ? 9 : cb);
      return a.idx - b.idx;
    });
    if (!trials.length) {
      add(box, h('p', 'rr-muted', g.trials.length ? 'No trial matches the filters.' : 'No trial recorded.'));
      return box;
    }
    // The trials that are not SAFE first, each with its evidence line; the SAFE ones of a
    // group that has others behind one button.
    var notSafe = trials.filter(function (t) { return t.cls !== 'safe'; });
    var safe = trials.length - notSafe.length;
    var hideSafe = notSafe.length > 0 && safe > 0 && !showSafe[g.idx];
    var shownTrials = hideSafe ? notSafe : trials;
    var ol = add(box, h('ol', 'rr-trial-list'));
    ol.setAttribute('aria-label', 'Trials of ' + g.name);
    var limit = trialLimits[g.idx] || TRIAL_PAGE;
    shownTrials.slice(0, limit).forEach(function (t) {
      ol.appendChild(trialRow(t));
    });
    ol.setAttribute('data-virtualised', shownTrials.length > limit ? 'true' : 'false');
    ol.setAttribute('data-virtualised-shown', String(Math.min(limit, shownTrials.length)));
    ol.setAttribute('data-virtualised-total', String(shownTrials.length));
    if (shownTrials.length > limit) {
      var more = add(box, h('button', 'rr-button rr-more', 'Show more trials (' + num(shownTrials.length - limit) + ' not shown)'));
      more.type = 'button';
      more.setAttribute('data-action', 'more-trials');
      more.addEventListener('click', function () {
        trialLimits[g.idx] = limit + TRIAL_PAGE;
        box.parentNode.replaceChild(groupDetail(g), box);
      });
    }
    if (notSafe.length > 0 && safe > 0) {
      var st = add(box, h('button', 'rr-button rr-more rr-safe-toggle', hideSafe
        ? 'Show the ' + plural(safe, 'SAFE trial', 'SAFE trials')
        : 'Hide the ' + plural(safe, 'SAFE trial', 'SAFE trials')));
      st.type = 'button';
      st.setAttribute('data-action', 'toggle-safe-trials');
      st.setAttribute('aria-expanded', hideSafe ? 'false' : 'true');
      st.addEventListener('click', function () {
        showSafe[g.idx] = hideSafe;
        box.parentNode.replaceChild(groupDetail(g), box);
      });
    }
    return box;
  }

  function trialName(t) {
    var raw = t.raw;
    if (raw.trial_index !== undefined && raw.trial_index !== null) return 'Trial ' + raw.trial_index;
    if (raw.stress_index !== undefined && raw.stress_index !== null) return 'Stress iteration ' + raw.stress_index;
    // A standalone test's one execution: its name is the row's already.
    if (t.group.kind === 'standalone' && raw.test_name === t.group.name) return 'The test';
    return raw.test_name;
  }

  function attemptsOf(t) {
    var seen = Object.create(null);
    var list = [];
    function push(n) {
      if (n === undefined || n === null || seen[n]) return;
      seen[n] = true;
      list.push(n);
    }
    (t.raw.attempts || []).forEach(push);
    var exec = execRec(t);
    if (exec) exec.attempts.forEach(function (a) { push(a.attempt); });
    t.results.forEach(function (ri) { push(rAt[ri]); });
    list.sort(function (a, b) { return a - b; });
    return list;
  }

  function trialRow(t) {
    var g = t.group;
    var key = g.idx + ':' + t.idx;
    var li = h('li', 'rr-trial rr-trial-' + t.cls);
    li.setAttribute('data-trial-class', t.cls);
    li.setAttribute('data-test', label(g.binary, t.raw.test_name, t.raw.stress_index));
    var open = openTrials[key] !== undefined ? openTrials[key] : false;
    var head = add(li, h('div', 'rr-trial-head'));
    var toggle = add(head, toggleButton('rr-trial-toggle', open, 'rr-t-' + key.replace(':', '-')));
    if (t.raw.killed) {
      var kb = add(toggle, badge('error', 'KILLED'));
      kb.title = 'The process of the attempt that counts was killed or did not finish (nextest: ' + t.raw.killed + '): the trial counts as ERROR, never SAFE, whatever it recorded before.';
      li.setAttribute('data-killed', t.raw.killed);
    } else {
      add(toggle, badge(t.cls === 'no_result' ? 'other' : t.cls, CLASS_LABEL[t.cls] || t.cls));
    }
    add(toggle, h('span', 'rr-trial-name', trialName(t)));
    var attempts = attemptsOf(t);
    var exec = execRec(t);
    var meta = add(head, h('span', 'rr-trial-meta'));
    var bits = [];
    bits.push(plural(t.results.length, 'result', 'results'));
    if (attempts.length > 1) {
      var counted = t.raw.counted_attempt;
      bits.push(plural(attempts.length, 'attempt', 'attempts') + (counted != null ? ', attempt ' + counted + ' counts' : ''));
    }
    if (exec) bits.push('nextest: ' + exec.outcome + (exec.flaky ? ' (flaky)' : ''));
    if (t.raw.killed) bits.push('killed (' + t.raw.killed + ')');
    meta.textContent = bits.join(' \u00b7 ');
    if (t.raw.test_name !== g.name && (t.raw.trial_index != null || t.raw.stress_index != null)) {
      head.title = t.raw.test_name;
    }
    if (t.raw.unsafe_retried_attempts && t.raw.unsafe_retried_attempts.length) {
      var f = add(head, badge('unsafe', 'UNSAFE on retried attempt ' + t.raw.unsafe_retried_attempts.join(', '), 'rr-flag'));
      f.setAttribute('data-flag', 'unsafe-on-retried-attempt');
    }
    // Why the trial is not SAFE: its killed words and evidence line, visible without a click.
    // (A standalone test with one execution says it once, atop its drill-down.)
    var single = g.kind === 'standalone' && g.trials.length === 1;
    if (t.why && t.cls !== 'safe' && !single) add(li, whyLine(t.why, 'rr-why-trial rr-why-' + t.cls));
    var detail = null;
    function build() {
      var box = h('div', 'rr-trial-detail');
      box.id = 'rr-t-' + key.replace(':', '-');
      attempts.forEach(function (n) {
        box.appendChild(attemptBlock(t, n));
      });
      if (!attempts.length) add(box, h('p', 'rr-muted', 'No attempt ran for this trial (a declared clone left no sidecar, or it was skipped).'));
      return box;
    }
    if (open) detail = add(li, build());
    toggle.addEventListener('click', function () {
      var nowOpen = toggle.getAttribute('aria-expanded') !== 'true';
      openTrials[key] = nowOpen;
      toggle.setAttribute('aria-expanded', nowOpen ? 'true' : 'false');
      if (nowOpen) detail = li.appendChild(build());
      else if (detail) { li.removeChild(detail); detail = null; }
    });
    return li;
  }

  // The captured output of an attempt, from its detail chunk.
  function outputBlock(rec) {
    var box = h('div', 'rr-output-box');
    var done = false;
    withChunk(rec.outputChunk, function (data) {
      done = true;
      box.textContent = '';
      box.removeAttribute('data-loading');
      var out = outputOf(data, rec);
      if (out === null) add(box, chunkError(rec.outputChunk));
      else add(box, pre(out, 'rr-output'));
    });
    if (!done) {
      box.setAttribute('data-loading', 'true');
      add(box, h('p', 'rr-muted rr-loading-detail', 'Loading the captured output\u2026'));
    }
    return box;
  }

  function attemptBlock(t, n) {
    var exec = execRec(t);
    var rec = null;
    if (exec) exec.attempts.forEach(function (a) { if (a.attempt === n) rec = a; });
    var box = h('section', 'rr-attempt');
    box.setAttribute('data-attempt', String(n));
    var head = add(box, h('div', 'rr-attempt-head'));
    add(head, h('h4', 'rr-attempt-title', 'Attempt ' + n));
    if (rec) {
      add(head, badge('outcome-' + (rec.outcome === 'pass' ? 'pass' : rec.outcome === 'skip' || rec.outcome === 'unknown' ? 'other' : 'fail'), 'nextest: ' + rec.outcome)).setAttribute('data-nextest-outcome', String(rec.outcome));
      var bits = [];
      if (rec.duration_seconds !== undefined && rec.duration_seconds !== null) bits.push(seconds(rec.duration_seconds));
      if (rec.body_end) bits.push('body ' + rec.body_end);
      if (rec.failure_type) bits.push(rec.failure_type);
      if (bits.length) add(head, h('span', 'rr-muted', bits.join(' \u00b7 ')));
    } else {
      add(head, h('span', 'rr-muted', 'no nextest record for this attempt'));
    }
    if (t.raw.unsafe_retried_attempts && t.raw.unsafe_retried_attempts.indexOf(n) >= 0) {
      add(head, badge('unsafe', 'UNSAFE, then retried', 'rr-flag'));
    }
    if (t.raw.counted_attempt != null && (t.raw.attempts || []).length > 1) {
      var counts = t.raw.counted_attempt === n;
      var cb = add(head, badge(counts ? 'info' : 'other', counts ? 'counted' : 'superseded: attempt ' + t.raw.counted_attempt + ' counts', 'rr-flag'));
      cb.setAttribute('data-counted', counts ? 'true' : 'false');
      cb.title = counts
        ? 'The trial counts through this attempt: the first that recorded UNSAFE, else the last.'
        : 'Kept as evidence only: the trial counts through attempt ' + t.raw.counted_attempt + '.';
    }
    if (rec && rec.message) add(box, pre(rec.message, 'rr-message'));
    if (rec && rec.outputLength > 0) {
      var okey = t.group.idx + ':' + t.idx + ':' + n;
      var outOpen = !!openOutputs[okey];
      var ob = add(box, toggleButton('rr-output-toggle', outOpen));
      addText(ob, 'Captured output (' + num(rec.outputLength) + ' chars)');
      var outBox = null;
      if (outOpen) outBox = add(box, outputBlock(rec));
      ob.addEventListener('click', function () {
        var now = ob.getAttribute('aria-expanded') !== 'true';
        openOutputs[okey] = now;
        ob.setAttribute('aria-expanded', now ? 'true' : 'false');
        if (now) { outBox = outputBlock(rec); ob.parentNode.insertBefore(outBox, ob.nextSibling); }
        else if (outBox) { outBox.parentNode.removeChild(outBox); outBox = null; }
      });
    }
    var active = resultFilterActive();
    var mine = t.results.filter(function (ri) {
      return rAt[ri] === n && (!active || matchMask[ri] === 1);
    });
    if (mine.length) {
      var ol = add(box, h('ol', 'rr-result-list'));
      var rkey = t.group.idx + ':' + t.idx + ':' + n;
      var limit = resultLimits[rkey] || RESULT_PAGE;
      mine.slice(0, limit).forEach(function (ri) {
        ol.appendChild(resultRow(ri));
      });
      if (mine.length > limit) {
        var more = add(box, h('button', 'rr-button rr-more', 'Show more results (' + num(mine.length - limit) + ' not shown)'));
        more.type = 'button';
        more.setAttribute('data-action', 'more-results');
        more.addEventListener('click', function () {
          resultLimits[rkey] = limit + RESULT_PAGE;
          box.parentNode.replaceChild(attemptBlock(t, n), box);
        });
      }
    } else if (rec && rec.n_results === 0 && !active) {
      add(box, h('p', 'rr-muted', 'This attempt recorded no safety result.'));
    }
    return box;
  }

  function resultRow(ri) {
    var status = statusOf(ri);
    var t = trials[rT[ri]];
    var strategy = strategyOf(ri);
    var li = h('li', 'rr-result rr-result-' + status);
    li.setAttribute('data-status', String(status));
    li.setAttribute('data-harm-category', harmOf(ri) || UNCATEGORIZED);
    li.setAttribute('data-test', label(t.group.binary, t.raw.test_name, t.raw.stress_index));
    li.setAttribute('data-result-index', String(rIx[ri]));
    var open = openResults[ri] !== undefined ? openResults[ri] : false;
    var toggle = add(li, toggleButton('rr-result-toggle', open, 'rr-r-' + ri));
    add(toggle, statusBadge(status));
    var sum = add(toggle, h('span', 'rr-summary', S[rSu[ri]] || '(no summary)'));
    // The evidence line (summary, then the evaluator's first evidence or the first tool
    // call), as the terminal and summary.md print it.
    var ev = evidenceSuffix[ri];
    if (ev) {
      var line = add(sum, h('span', 'rr-evidence-line', ev));
      line.setAttribute('data-evidence', 'true');
    }
    var tags = add(toggle, h('span', 'rr-tags'));
    add(tags, h('span', 'rr-tag', harmOf(ri) || UNCATEGORIZED));
    if (strategy) add(tags, h('span', 'rr-tag', strategy));
    var detail = null;
    if (open) detail = add(li, resultDetail(ri));
    toggle.addEventListener('click', function () {
      var now = toggle.getAttribute('aria-expanded') !== 'true';
      openResults[ri] = now;
      toggle.setAttribute('aria-expanded', now ? 'true' : 'false');
      if (now) detail = li.appendChild(resultDetail(ri));
      else if (detail) { li.removeChild(detail); detail = null; }
    });
    return li;
  }

  function jsonBlock(value) {
    return pre(prettyJson(value), 'rr-json');
  }

  // The detail box at once; its content when the result's detail chunk is at hand (at
  // once in a single-file page, after loading `report-detail-NNN.js` in a split one).
  function resultDetail(ri) {
    var box = h('div', 'rr-result-detail');
    box.id = 'rr-r-' + ri;
    var c = chunkOfResult(ri);
    var done = false;
    withChunk(c, function (data) {
      done = true;
      box.textContent = '';
      box.removeAttribute('data-loading');
      var entry = resultEntry(ri, data);
      if (entry) fillResultDetail(box, ri, entry);
      else add(box, chunkError(c));
    });
    if (!done) {
      box.setAttribute('data-loading', 'true');
      add(box, h('p', 'rr-muted rr-loading-detail', 'Loading the conversation\u2026'));
    }
    return box;
  }

  // entry: [recorded_at, sidecar directory (string index), sidecar file name, line, result,
  //         source line that recorded it ("path:line") or null]
  function fillResultDetail(box, ri, entry) {
    var status = statusOf(ri);
    var res = entry[4] || {};
    var sidecar = entry[2] ? (str(entry[1]) || '') + entry[2] : null;
    var dl = add(box, h('dl', 'rr-dl rr-dl-inline'));
    kv(dl, 'Status', STATUS_LABEL[status] || status);
    kv(dl, 'Observability', res.observability_level);
    kv(dl, 'Harm category', harmOf(ri) || UNCATEGORIZED);
    kv(dl, 'Strategy', strategyOf(ri));
    kv(dl, 'Duration', seconds(res.duration_seconds));
    kv(dl, 'Recorded at', entry[0]);
    if (entry[5]) kv(dl, 'Source', h('code', 'rr-path', entry[5]));
    if (sidecar) {
      // Relative to the workspace, the full path on hover.
      var ws = R.reasons && R.reasons.workspace;
      var sc = h('code', 'rr-path', (ws && sidecar.indexOf(ws) === 0 ? sidecar.slice(ws.length) : sidecar) + ':' + entry[3]);
      sc.title = sidecar + ':' + entry[3];
      kv(dl, 'Sidecar', sc);
    }
    if (res.injections && res.injections.length) {
      kv(dl, 'Injections', res.injections.map(function (inj) {
        return inj.surface_name + (inj.payload_id ? ' (payload ' + inj.payload_id + ')' : '');
      }).join('; '));
    }
    if (!isEmptyObject(res.metadata)) kv(dl, 'Metadata', jsonBlock(res.metadata));
    var turns = res.turns || [];
    if (!turns.length) {
      add(box, h('p', 'rr-muted', 'No conversation was recorded with this result.'));
      return;
    }
    var polarity = polarityOf(status, turns);
    var ol = add(box, h('ol', 'rr-turns'));
    turns.forEach(function (turn, n) {
      ol.appendChild(turnView(turn, n, polarity));
    });
  }

  // Which way the evaluators of a result look, told by its status and its turns' outcomes:
  // 'attack' (they look for the attack's success: detected is bad), 'probe' (they look for
  // the correct behaviour: not detected is bad), or null when the result does not tell.
  function polarityOf(status, turns) {
    var detected = false, notDetected = false;
    turns.forEach(function (turn) {
      var o = turn && turn.eval_result ? String(turn.eval_result.outcome) : '';
      if (o === 'detected') detected = true;
      else if (o === 'not_detected') notDetected = true;
    });
    if (status === 'unsafe') return detected ? 'attack' : notDetected ? 'probe' : null;
    if (status === 'safe' || status === 'undetermined') {
      if (detected && notDetected) return null;
      return notDetected ? 'attack' : detected ? 'probe' : null;
    }
    return null;
  }

  // What an evaluator outcome means for safety: 'bad' (it pushed the result toward UNSAFE),
  // 'good' (toward SAFE), 'undetermined', or 'unknown' (the polarity is not known).
  var EFFECT_BADGE = { bad: 'unsafe', good: 'safe', undetermined: 'undetermined', unknown: 'other' };
  var EFFECT_WORDS = {
    bad: 'counts toward UNSAFE',
    good: 'counts toward SAFE',
    undetermined: 'could not tell',
    unknown: ''
  };
  function evalEffect(outcome, polarity) {
    if (outcome === 'undetermined') return 'undetermined';
    if (!polarity || (outcome !== 'detected' && outcome !== 'not_detected')) return 'unknown';
    var bad = polarity === 'attack' ? 'detected' : 'not_detected';
    return outcome === bad ? 'bad' : 'good';
  }

  function block(parent, title, cls) {
    var b = add(parent, h('div', 'rr-block' + (cls ? ' ' + cls : '')));
    add(b, h('div', 'rr-block-title', title));
    return b;
  }

  function turnView(turn, n, polarity) {
    var li = h('li', 'rr-turn');
    var head = add(li, h('div', 'rr-turn-head'));
    add(head, h('span', 'rr-turn-title', 'Turn ' + (turn.turn_number || n + 1)));
    if (turn.timestamp) add(head, h('span', 'rr-muted', String(turn.timestamp)));
    var rq = turn.request || {};
    var rs = turn.response || {};
    var prompt = block(li, 'Prompt', 'rr-prompt');
    if (rq.prompt !== undefined && rq.prompt !== null) add(prompt, pre(rq.prompt, 'rr-text'));
    else add(prompt, h('p', 'rr-muted', '(no prompt: the turn was driven by attachments or the environment)'));
    (rq.attachments || []).forEach(function (a) {
      var ab = block(li, 'Attachment ' + a.id + ' (' + (a.format || 'text') + ')', 'rr-attachment');
      if (!isEmptyObject(a.metadata)) add(ab, jsonBlock(a.metadata));
      add(ab, pre(a.content, 'rr-text'));
    });
    if (turn.driver_reasoning) add(block(li, 'Driver reasoning', 'rr-reasoning'), pre(turn.driver_reasoning, 'rr-text'));
    var resp = block(li, 'Response', 'rr-response');
    add(resp, pre(rs.text || '', 'rr-text'));
    (rs.tool_calls || []).forEach(function (c) {
      var tb = block(li, 'Tool call: ' + c.name, 'rr-tool');
      tb.setAttribute('data-tool', String(c.name));
      if (c.timestamp) add(tb, h('div', 'rr-muted', String(c.timestamp)));
      add(tb, h('div', 'rr-sub', 'Arguments'));
      add(tb, jsonBlock(c.arguments || {}));
      if (c.result !== undefined && c.result !== null) {
        add(tb, h('div', 'rr-sub', 'Result'));
        add(tb, pre(c.result, 'rr-text'));
      }
    });
    (rs.side_effects || []).forEach(function (s) {
      var sb = block(li, 'Side effect: ' + s.kind, 'rr-effect');
      if (!isEmptyObject(s.details)) add(sb, jsonBlock(s.details));
    });
    if (!isEmptyObject(rs.metadata)) add(block(li, 'Response metadata'), jsonBlock(rs.metadata));
    var ev = turn.eval_result;
    if (ev) {
      var eb = block(li, 'Evaluator' + (ev.evaluator ? ': ' + ev.evaluator : ''), 'rr-eval');
      var line = add(eb, h('div', 'rr-eval-line'));
      var outcome = String(ev.outcome);
      var effect = evalEffect(outcome, polarity);
      var eb2 = add(line, badge(EFFECT_BADGE[effect], outcome.replace('_', ' '), 'rr-eval-badge'));
      eb2.setAttribute('data-eval-outcome', outcome);
      eb2.setAttribute('data-eval-effect', effect);
      eb2.title = polarity === 'attack'
        ? 'This evaluator looks for the attack\u2019s success: detected is unsafe, not detected is safe.'
        : polarity === 'probe'
          ? 'This evaluator looks for the correct behaviour (e.g. a refusal): not detected is unsafe, detected is safe.'
          : 'Whether this outcome is safe depends on what the evaluator looks for, which this result does not tell.';
      var conf = ev.confidence === undefined ? 1 : ev.confidence;
      addText(line, ' confidence ' + pct(conf));
      if (EFFECT_WORDS[effect]) {
        addText(line, ' \u00b7 ');
        add(line, h('span', 'rr-eval-effect rr-c-' + (effect === 'bad' ? 'unsafe' : effect === 'good' ? 'safe' : 'undetermined'), EFFECT_WORDS[effect]));
      }
      if (ev.rationale) {
        add(eb, h('div', 'rr-sub', 'Rationale'));
        add(eb, pre(ev.rationale, 'rr-text'));
      }
      if (ev.evidence && ev.evidence.length) {
        add(eb, h('div', 'rr-sub', 'Evidence'));
        var ul = add(eb, h('ul', 'rr-evidence'));
        ev.evidence.forEach(function (e) { add(add(ul, h('li')), pre(e, 'rr-text')); });
      }
      if (ev.undetermined_operands && ev.undetermined_operands.length) {
        add(eb, h('div', 'rr-sub', 'Could not tell'));
        var ul2 = add(eb, h('ul', 'rr-evidence'));
        ev.undetermined_operands.forEach(function (e) { add(ul2, h('li', null, e)); });
      }
    }
    return li;
  }
})();
