// Portcullis console: approvals, session replay, live sessions, trail health and policy in one page.
//
// Ground rules, kept throughout this file:
// - Every text from the API reaches the DOM as text (textContent or text nodes, see h()), never as HTML.
// - The session is an HttpOnly cookie the browser sends by itself: nothing secret is kept in storage or
//   put in a URL. Every state change is a POST carrying the CSRF token that GET /api/v1/me handed out.
// - Nothing is decided on page load: approving, denying, revoking, terminating and verifying each
//   follow a click, and nothing asks window.confirm (the page must also work headless).
(function () {
  'use strict';

  const BASE = '/console';
  const POLL_MS = 2000;
  const PAGES = ['approvals', 'sessions', 'live', 'trail', 'policy'];
  const TITLES = {
    approvals: 'Approvals', sessions: 'Sessions', session: 'Session',
    live: 'Live sessions', trail: 'Trail health', policy: 'Policy',
  };
  const STATES = ['pending', 'approved', 'denied', 'expired', 'released', 'revoked', 'all'];
  const PROTOCOLS = ['postgres', 'http', 'kubernetes', 'ssh'];
  const DONE = { approve: 'Approved', deny: 'Denied', revoke: 'Revoked' };
  // Event types that are refusals in their own right, besides operations with a deny verdict.
  const REFUSAL_TYPES = new Set(['auth.failed', 'approval.denied', 'approval.expired']);

  // What belongs to the page on screen. route() bumps gen, so answers that arrive for a page the
  // user has already left are dropped instead of being drawn over the new one.
  const app = { me: null, csrf: '', gen: 0, timer: 0, poll: null, sticky: new Set(), lastSearch: '', policy: [] };
  // The JSON each card was last drawn from: a poll that brings nothing new leaves the card alone.
  const drawn = new WeakMap();
  let uid = 0;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- DOM helpers

  // Builds an element. Attributes are set with setAttribute and text goes in as text nodes. 'style'
  // and on* attributes are refused outright: the CSP forbids inline styles and inline handlers.
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'style' || /^on/i.test(k)) throw new Error('refused attribute: ' + k);
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    return add(e, kids);
  }

  function add(parent, kids) {
    for (const k of [kids].flat(Infinity)) {
      if (k === null || k === undefined || k === false) continue;
      parent.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return parent;
  }

  function badge(text, cls) {
    return h('span', { class: 'badge ' + (cls || 'neutral'), text });
  }

  // A class name derived from API text ("require-approval" -> "require-approval").
  function token(s) {
    return String(s || 'none').toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  }

  function fact(dl, label, value) {
    dl.append(h('dt', { text: label }), h('dd', {}, value));
  }

  function identity(subject) {
    return subject ? String(subject) : '(unauthenticated)';
  }

  function groupsText(groups) {
    return Array.isArray(groups) && groups.length ? ' (' + groups.join(', ') + ')' : '';
  }

  // Sets the text of a message element and its one state class, keeping its other classes.
  function tell(el, text, kind) {
    el.textContent = text || '';
    el.classList.remove('ok', 'error', 'busy', 'neutral');
    if (kind) el.classList.add(kind);
  }

  function say(text, kind) {
    tell($('status'), text, kind);
  }

  function loading() {
    say('Loading\u2026', 'busy');
  }

  // Clears "Loading…" but leaves anything a page said meanwhile.
  function loaded() {
    if ($('status').classList.contains('busy')) say('');
  }

  // ---------------------------------------------------------------- time

  function parseTime(iso) {
    const t = typeof iso === 'string' ? Date.parse(iso) : NaN;
    return Number.isNaN(t) ? null : t;
  }

  // Local time on screen, the exact ISO instant in datetime and title.
  function timeEl(iso) {
    const t = parseTime(iso);
    if (t === null) return h('span', { class: 'muted', text: iso ? String(iso) : '\u2014' });
    return h('time', { datetime: iso, title: iso, text: new Date(t).toLocaleString() });
  }

  function human(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min';
    const hours = Math.floor(m / 60);
    if (hours < 48) return hours + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
    return Math.floor(hours / 24) + ' days';
  }

  // Relative times ("waiting 3 min") are redrawn by tickAll(), so they stay true on a page left open.
  const RELATIVE = {
    waiting: (d) => 'waiting ' + human(-d),
    open: (d) => human(-d),
    relative: (d) => (d >= 0 ? 'in ' + human(d) : human(-d) + ' ago'),
  };

  function rel(iso, mode) {
    const e = h('span', { class: 'rel', 'data-at': iso, 'data-mode': mode });
    tickOne(e);
    return e;
  }

  function tickOne(e) {
    const t = parseTime(e.dataset.at);
    e.textContent = t === null ? '' : RELATIVE[e.dataset.mode](t - Date.now());
  }

  function tickAll() {
    document.querySelectorAll('#app .rel').forEach(tickOne);
  }

  // ---------------------------------------------------------------- API

  class Problem extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // RFC 9457 problem JSON: the detail says what went wrong in words meant for people.
  function problemText(res, body) {
    if (body && typeof body.detail === 'string' && body.detail) return body.detail;
    if (body && typeof body.title === 'string' && body.title) return body.title;
    return 'The gateway answered HTTP ' + res.status + '.';
  }

  async function api(method, url, payload) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = app.csrf;
      init.body = JSON.stringify(payload === undefined ? {} : payload);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      throw new Problem(0, 'Could not reach the gateway. Check the connection and try again.');
    }
    const text = await res.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!res.ok) {
      const p = new Problem(res.status, problemText(res, body));
      // The console session expired or was ended: whatever the user was doing, they must sign in.
      if (res.status === 401) showSignin(p.message);
      throw p;
    }
    return body;
  }

  function transient(err) {
    return err.status === 0 || err.status === 429 || err.status >= 500;
  }

  // Shows an error in target (or #status). A 401 already replaced the page with the sign-in section.
  function failed(err, target) {
    if (err.status === 401) return;
    if (target) tell(target, err.message, 'error'); else say(err.message, 'error');
  }

  // ---------------------------------------------------------------- sign-in, sign-out, who

  function showSignin(detail) {
    stopPoll();
    app.gen++;
    app.me = null;
    $('app').hidden = true;
    $('nav').hidden = true;
    $('account').hidden = true;
    say('');
    $('signin-detail').textContent = detail || 'Sign in to use the console.';
    $('sign-in').href = BASE + '/login?next=' + encodeURIComponent(location.pathname + location.search);
    $('signin').hidden = false;
  }

  function signedIn(me) {
    app.me = me;
    app.csrf = me.csrfToken || '';
    const who = $('who');
    who.textContent = me.subject || '';
    who.title = 'Groups: ' + ((me.groups || []).join(', ') || 'none')
        + (me.expiresAt ? '. Console session until ' + me.expiresAt : '');
    // Live for session admins, what was recorded for auditors: the pages still route for others and the
    // server refuses them.
    const admin = Boolean(me.roles && me.roles.sessionAdmin);
    const auditor = Boolean(me.roles && me.roles.auditor);
    const shown = { live: admin, sessions: auditor, trail: auditor, policy: auditor };
    Object.keys(shown).forEach((page) => {
      const link = document.querySelector('nav a[data-page="' + page + '"]');
      link.hidden = !shown[page];
      link.parentElement.hidden = !shown[page];
    });
    $('signin').hidden = true;
    $('nav').hidden = false;
    $('account').hidden = false;
    $('app').hidden = false;
  }

  async function signOut() {
    const button = $('sign-out');
    button.disabled = true;
    try {
      await api('POST', BASE + '/logout', {});
      location.assign(BASE + '/signed-out');
    } catch (err) {
      button.disabled = false;
      // 401: the console session was already gone, which is where signing out leads anyway.
      if (err.status === 401) location.assign(BASE + '/signed-out');
      else say(err.message, 'error');
    }
  }

  // ---------------------------------------------------------------- routing

  // /console/<page>[/<id>] -> {page, id}; null for anything that is not a page of this console
  // (the login, logout and signed-out endpoints are the server's, so their links are left alone).
  function parsePath(pathname) {
    const m = /^\/console(?:\/([a-z]+)(?:\/([^/]+))?)?\/?$/.exec(pathname);
    if (!m) return null;
    if (!m[1]) return { page: '', id: null };
    if (!PAGES.includes(m[1])) return null;
    if (m[2] && m[1] !== 'approvals' && m[1] !== 'sessions') return null;
    let id = null;
    try { id = m[2] ? decodeURIComponent(m[2]) : null; } catch (e) { return null; }
    return { page: m[1], id };
  }

  const VIEWS = {
    approvals: showApprovals, sessions: showSessions, session: showSession,
    live: showLive, trail: showTrail, policy: showPolicy,
  };

  function route(opts) {
    const options = opts || {};
    stopPoll();
    app.gen++;
    app.sticky = new Set();
    say('');
    const where = parsePath(location.pathname);
    if (where && where.page === '') {
      history.replaceState(null, '', BASE + '/approvals');
      route(options);
      return;
    }
    document.querySelectorAll('#app > .page').forEach((p) => { p.hidden = true; });
    markNav(where ? where.page : null);
    if (!where) {
      document.title = 'Not found \u00b7 Portcullis';
      say('There is no console page at ' + location.pathname + '.', 'error');
      return;
    }
    const view = where.page === 'sessions' && where.id ? 'session' : where.page;
    const section = $('page-' + view);
    section.hidden = false;
    document.title = TITLES[view] + ' \u00b7 Portcullis';
    if (view !== 'approvals') refreshPendingCount();
    VIEWS[view](where.id, app.gen);
    // Moving focus to the new heading tells screen-reader users the page changed.
    if (!options.initial && options.focus !== false) section.querySelector('h1').focus();
  }

  function markNav(page) {
    document.querySelectorAll('nav a[data-page]').forEach((a) => {
      if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  function navigate(url, opts) {
    if (url === location.pathname + location.search) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    route(opts);
    if (!opts || opts.focus !== false) window.scrollTo(0, 0);
  }

  // Same-origin links to console pages are followed in place; everything else (new tab, downloads,
  // the skip link, the login endpoint, other sites) is left to the browser.
  function onDocumentClick(ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || a.getAttribute('href').startsWith('#')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !parsePath(url.pathname) || !app.me) return;
    ev.preventDefault();
    navigate(url.pathname + url.search);
  }

  // ---------------------------------------------------------------- polling

  // Runs load() every POLL_MS while the page is on screen and the tab visible. The next round is set
  // only after the last one finished, so slow answers never pile up.
  function startPoll(load) {
    const gen = app.gen;
    let busy = false;
    let failing = false;
    const tick = async () => {
      clearTimeout(app.timer);
      if (gen !== app.gen || busy) return;
      let again = true;
      if (document.visibilityState === 'visible') {
        busy = true;
        try {
          await load(gen);
          if (failing && gen === app.gen) say('');
          failing = false;
        } catch (err) {
          if (gen === app.gen) failed(err);
          failing = true;
          again = transient(err);
        }
        busy = false;
      }
      if (again && gen === app.gen) app.timer = setTimeout(tick, POLL_MS);
    };
    app.poll = tick;
    app.timer = setTimeout(tick, POLL_MS);
  }

  function stopPoll() {
    clearTimeout(app.timer);
    app.timer = 0;
    app.poll = null;
  }

  // First load with a "Loading…" note, then keep polling (also after a passing network failure).
  function loadAndPoll(load, gen) {
    loading();
    load(gen).then(() => {
      if (gen !== app.gen) return;
      loaded();
      startPoll(load);
    }, (err) => {
      if (gen !== app.gen) return;
      failed(err);
      if (transient(err)) startPoll(load);
    });
  }

  // Brings a container of cards in line with items, matched by data-id, without rebuilding the cards
  // that stay: someone typing a reason keeps their text, caret and focus while the list polls.
  // Cards that keep(card) wants to hold on to stay even when gone from items; they are returned.
  function reconcile(list, items, create, update, keep) {
    const active = document.activeElement;
    const caret = active && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null;
    const old = new Map([...list.children].map((c) => [c.dataset.id, c]));
    const wanted = items.map((item) => {
      const card = old.get(item.id);
      old.delete(item.id);
      if (!card) return create(item);
      update(card, item);
      return card;
    });
    const kept = [];
    old.forEach((card) => { if (keep(card)) kept.push(card); else card.remove(); });
    // Insert only what is out of place; kept cards stay where they are.
    let cursor = list.firstElementChild;
    for (const card of wanted) {
      while (cursor && kept.includes(cursor)) cursor = cursor.nextElementSibling;
      if (cursor === card) cursor = card.nextElementSibling;
      else list.insertBefore(card, cursor);
    }
    // Moving a node in the DOM blurs it; put focus and caret back.
    if (active && active !== document.activeElement && active.isConnected) {
      active.focus({ preventScroll: true });
      if (caret) try { active.setSelectionRange(caret[0], caret[1]); } catch (e) { /* not a text field */ }
    }
    return kept;
  }

  // A card the user is working in: it has focus or text typed into it.
  function inUse(card) {
    return card.contains(document.activeElement)
        || [...card.querySelectorAll('input')].some((i) => i.value.trim() !== '');
  }

  function reasonField(id, label, cls) {
    const fid = 'field-' + (++uid);
    const input = h('input', { id: fid, type: 'text', class: cls, 'data-id': id, maxlength: 2000, autocomplete: 'off' });
    input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
    return { input, wrap: h('div', { class: 'field inline' }, h('label', { for: fid, text: label }), input) };
  }

  function needReason(input, msg, text) {
    tell(msg, text, 'error');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }

  // ---------------------------------------------------------------- approvals

  // An approved grant whose time has not run out: only then can it be revoked.
  function running(r) {
    const until = r.grant ? parseTime(r.grant.until) : null;
    return r.state === 'approved' && until !== null && until > Date.now();
  }

  function byUrgency(a, b) {
    const pending = (r) => (r.state === 'pending' ? 0 : 1);
    return pending(a) - pending(b) || (parseTime(b.createdAt) || 0) - (parseTime(a.createdAt) || 0);
  }

  function setPendingCount(n) {
    const count = document.querySelector('nav a[data-page="approvals"] .count');
    count.textContent = n + ' pending';
    count.classList.toggle('has-pending', n > 0);
    count.hidden = false;
  }

  async function refreshPendingCount() {
    try {
      const body = await api('GET', '/api/v1/approvals?state=pending');
      setPendingCount(Array.isArray(body && body.approvals) ? body.approvals.length : 0);
    } catch (err) {
      // The count is a convenience; the page itself says what failed.
    }
  }

  function showApprovals(id, gen) {
    const single = id !== null;
    const params = new URLSearchParams(location.search);
    const filter = STATES.includes(params.get('state')) ? params.get('state') : 'pending';
    const decision = single && ['approve', 'deny'].includes(params.get('decision')) ? params.get('decision') : null;
    let first = true;
    $('state').value = filter;
    $('approvals-filter').hidden = single;
    $('approvals-back').hidden = !single;
    $('approvals-title').textContent = single ? 'Approval request' : 'Approval requests';
    $('approvals-list').textContent = '';
    $('approvals-info').textContent = '';

    const load = async () => {
      let items;
      if (single) {
        items = [await api('GET', '/api/v1/approvals/' + encodeURIComponent(id))];
      } else {
        const body = await api('GET', '/api/v1/approvals?state=' + encodeURIComponent(filter));
        items = Array.isArray(body && body.approvals) ? body.approvals : [];
      }
      if (gen !== app.gen) return;
      drawApprovals(items, single ? null : filter);
      if (first && decision) preselect(id, decision);
      first = false;
      if (filter === 'pending' || filter === 'all') {
        setPendingCount(items.filter((r) => r.state === 'pending').length);
      } else {
        await refreshPendingCount();
      }
    };
    loadAndPoll(load, gen);
  }

  function drawApprovals(items, filter) {
    const list = $('approvals-list');
    items.sort(byUrgency);
    const kept = reconcile(list, items, approvalCard, updateApprovalCard,
        (card) => app.sticky.has(card.dataset.id) || inUse(card));
    // Cards held on to although the filter no longer lists them: show what became of them.
    kept.forEach(refreshKeptApproval);
    tickAll();
    const info = $('approvals-info');
    if (filter === null) {
      const r = items[0];
      info.textContent = r.state === 'pending' ? ''
          : running(r) ? 'Approved: the grant is running and can be revoked.'
          : 'This request is ' + r.state + '; it can no longer be decided.';
    } else if (!list.children.length) {
      info.textContent = filter === 'all' ? 'No approval requests.'
          : 'No ' + filter + ' approval requests.' + (filter === 'pending' ? ' New ones appear here as they come in.' : '');
    } else {
      const n = items.length;
      info.textContent = n + ' ' + (filter === 'all' ? '' : filter + ' ') + 'request' + (n === 1 ? '' : 's') + '.';
    }
  }

  async function refreshKeptApproval(card) {
    const gen = app.gen;
    try {
      const r = await api('GET', '/api/v1/approvals/' + encodeURIComponent(card.dataset.id));
      if (gen === app.gen && card.isConnected) updateApprovalCard(card, r);
    } catch (err) {
      // The next poll tries again; the card still shows what was last known.
    }
  }

  function approvalCard(r) {
    const card = h('article', { class: 'card approval', 'data-id': r.id },
        h('div', { class: 'card-body' }),
        h('div', { class: 'actions', hidden: true }),
        h('p', { class: 'message', role: 'status', 'data-message': r.id }));
    updateApprovalCard(card, r);
    return card;
  }

  function updateApprovalCard(card, r) {
    const key = JSON.stringify(r);
    if (drawn.get(card) !== key) {
      drawn.set(card, key);
      card.dataset.state = r.state;
      card.querySelector('.card-body').replaceWith(approvalBody(r));
    }
    syncApprovalActions(card, r);
  }

  function approvalBody(r) {
    const approvals = Array.isArray(r.approvals) ? r.approvals : [];
    const requester = r.requester || {};
    const facts = h('dl', { class: 'facts' });
    fact(facts, 'Connection', r.connection);
    fact(facts, 'Protocol', r.protocol);
    fact(facts, 'Requester', [requester.subject || '(unknown)', groupsText(requester.groups)]);
    fact(facts, 'Rule', [h('code', { text: r.ruleId }), r.reason ? ' \u2014 ' + r.reason : '']);
    fact(facts, 'Approvals', approvalsText(r, approvals));
    if (r.state === 'pending') fact(facts, 'Waiting', [rel(r.createdAt, 'waiting'), ' (since ', timeEl(r.createdAt), ')']);
    else fact(facts, 'Requested', timeEl(r.createdAt));
    fact(facts, 'Expires', [rel(r.expiresAt, 'relative'), ' (', timeEl(r.expiresAt), ')']);
    fact(facts, 'State', r.state);
    if (r.grant) fact(facts, 'Grant', grantText(r));
    if (r.denial) fact(facts, 'Denied by', decisionText(r.denial));
    if (r.revocation) fact(facts, 'Revoked by', decisionText(r.revocation));
    return h('div', { class: 'card-body' },
        h('div', { class: 'card-head' },
            h('h2', { class: 'summary' }, h('code', { text: r.summary })),
            badge(r.state, 'state-' + token(r.state))),
        h('p', { class: 'card-meta' }, 'Request ',
            h('a', { class: 'permalink', href: BASE + '/approvals/' + encodeURIComponent(r.id), text: r.id })),
        facts,
        h('p', { class: 'label', text: 'Exactly what was asked' }),
        h('pre', { class: 'detail', text: r.detail || r.summary || '' }));
  }

  function approvalsText(r, approvals) {
    const who = approvals.map((a) => a.subject).join(', ');
    const groups = Array.isArray(r.approverGroups) && r.approverGroups.length ? r.approverGroups.join(', ') : '';
    return approvals.length + ' of ' + r.approvalsRequired
        + (who ? ', approved by ' + who : '')
        + (groups ? ' \u2014 approvers: ' + groups : '');
  }

  function grantText(r) {
    const g = r.grant;
    const span = (g.minutes ? g.minutes + ' min' : g.duration) + ' of access';
    if (!g.until) return span + ' once approved';
    if (running(r)) return [span + ', running until ', timeEl(g.until), ' (', rel(g.until, 'relative'), ')'];
    return [span + ', ended ', timeEl(g.until)];
  }

  function decisionText(d) {
    return [d.subject || '(unknown)', d.reason ? ': ' + d.reason : '', d.at ? [' \u2014 ', timeEl(d.at)] : ''];
  }

  // The action row depends on the state only; it is rebuilt when that changes, never on a plain
  // poll, so a half-typed reason survives.
  function syncApprovalActions(card, r) {
    const kind = r.state === 'pending' ? 'decide' : running(r) ? 'revoke' : 'none';
    const old = card.querySelector('.actions');
    if (old.dataset.kind === kind) return;
    const actions = kind === 'decide' ? decideActions(card, r.id)
        : kind === 'revoke' ? revokeActions(card, r.id)
        : h('div', { class: 'actions', hidden: true });
    actions.dataset.kind = kind;
    const hadFocus = old.contains(document.activeElement);
    old.replaceWith(actions);
    if (hadFocus) card.querySelector('.permalink').focus();
  }

  function decideActions(card, id) {
    const approve = h('button', { type: 'button', class: 'button approve', 'data-id': id, text: 'Approve' });
    const reason = reasonField(id, 'Reason for denying', 'reason');
    const deny = h('button', { type: 'button', class: 'button danger deny', 'data-id': id, text: 'Deny' });
    approve.addEventListener('click', () => decide(card, id, 'approve', {}));
    deny.addEventListener('click', () => {
      const text = reason.input.value.trim();
      if (!text) { needReason(reason.input, card.querySelector('.message'), 'Write a reason for denying, then press Deny.'); return; }
      decide(card, id, 'deny', { reason: text });
    });
    return h('div', { class: 'actions' }, approve, reason.wrap, deny);
  }

  function revokeActions(card, id) {
    const reason = reasonField(id, 'Reason for revoking', 'reason');
    const revoke = h('button', { type: 'button', class: 'button danger revoke', 'data-id': id, text: 'Revoke' });
    revoke.addEventListener('click', () => {
      const text = reason.input.value.trim();
      if (!text) { needReason(reason.input, card.querySelector('.message'), 'Write a reason for revoking, then press Revoke.'); return; }
      decide(card, id, 'revoke', { reason: text });
    });
    return h('div', { class: 'actions' }, reason.wrap, revoke);
  }

  // One click, one request. aria-busy (rather than disabling the buttons) guards against a double
  // click without throwing keyboard focus out of the card.
  async function decide(card, id, action, payload) {
    if (card.getAttribute('aria-busy') === 'true') return;
    const msg = card.querySelector('.message');
    card.setAttribute('aria-busy', 'true');
    tell(msg, 'Sending\u2026', 'busy');
    try {
      const r = await api('POST', '/api/v1/approvals/' + encodeURIComponent(id) + '/' + action, payload);
      app.sticky.add(id);
      const n = Array.isArray(r.approvals) ? r.approvals.length : 0;
      tell(msg, action === 'approve' && r.state === 'pending'
          ? 'Approved (' + n + ' of ' + r.approvalsRequired + ')' : DONE[action], 'ok');
      updateApprovalCard(card, r);
    } catch (err) {
      // The server decides who may act (approver groups, own request): its refusal is shown here.
      if (err.status !== 401) tell(msg, err.message, 'error');
    } finally {
      card.removeAttribute('aria-busy');
    }
  }

  // A link from a chat notification names the decision; point at it, but leave the click to a person.
  function preselect(id, decision) {
    const card = [...$('approvals-list').children].find((c) => c.dataset.id === id);
    const button = card && card.querySelector('button.' + decision);
    if (!button) return;
    button.classList.add('preselected');
    button.focus();
    if (decision === 'deny') say('Write a reason, then press Deny.');
  }

  function onFilterChange() {
    const state = $('state').value;
    history.replaceState(null, '', BASE + '/approvals' + (state === 'pending' ? '' : '?state=' + encodeURIComponent(state)));
    route({ focus: false });
  }

  // ---------------------------------------------------------------- sessions

  function showSessions(_id, gen) {
    const q = new URLSearchParams(location.search);
    fillSearchForm(q);
    app.lastSearch = location.search;
    loadSessions(q, gen);
  }

  function fillSearchForm(q) {
    $('q-subject').value = q.get('subject') || '';
    $('q-connection').value = q.get('connection') || '';
    $('q-protocol').value = PROTOCOLS.includes(q.get('protocol')) ? q.get('protocol') : '';
    $('q-refused').checked = q.get('refused') === 'true';
    $('q-from').value = toLocalInput(q.get('from'));
    $('q-to').value = toLocalInput(q.get('to'));
  }

  // ISO instant -> the "YYYY-MM-DDTHH:MM" local value a datetime-local input shows.
  function toLocalInput(iso) {
    const t = parseTime(iso);
    if (t === null) return '';
    return new Date(t - new Date(t).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  // The form as a query string: the URL mirrors the search, so a search can be linked to.
  function searchFromForm() {
    const q = new URLSearchParams();
    const put = (key, value) => { if (value) q.set(key, value); };
    put('subject', $('q-subject').value.trim());
    put('connection', $('q-connection').value.trim());
    put('protocol', $('q-protocol').value);
    if ($('q-refused').checked) q.set('refused', 'true');
    for (const [key, field] of [['from', 'q-from'], ['to', 'q-to']]) {
      const value = $(field).value;
      const t = value ? new Date(value).getTime() : NaN; // datetime-local values are local time
      if (!Number.isNaN(t)) q.set(key, new Date(t).toISOString());
    }
    return q;
  }

  function onSearch(ev) {
    ev.preventDefault();
    const qs = searchFromForm().toString();
    navigate(BASE + '/sessions' + (qs ? '?' + qs : ''), { focus: false });
  }

  async function loadSessions(q, gen) {
    const query = new URLSearchParams(q);
    query.set('limit', '200');
    const info = $('sessions-info');
    const tbody = $('sessions').tBodies[0];
    tbody.textContent = '';
    tell(info, 'Searching\u2026', 'busy');
    try {
      const body = await api('GET', '/api/v1/sessions?' + query.toString());
      if (gen !== app.gen) return;
      const rows = Array.isArray(body && body.sessions) ? body.sessions : [];
      rows.forEach((s) => tbody.appendChild(sessionRow(s)));
      if (!rows.length) {
        tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: 8, text: 'No sessions match this search.' })));
      }
      tell(info, rows.length
          ? rows.length + ' session' + (rows.length === 1 ? '' : 's')
            + (body.truncated ? ', only the first ' + rows.length + ' shown: narrow the search to see the rest.' : '.')
          : 'No sessions match this search.');
    } catch (err) {
      if (gen === app.gen) failed(err, info);
    }
  }

  function sessionRow(s) {
    const started = parseTime(s.startedAt);
    const last = parseTime(s.lastEventAt);
    const refused = Number(s.refusedCount) || 0;
    return h('tr', { 'data-id': s.id, class: refused > 0 ? 'has-refusals' : null },
        h('td', {}, h('a', { href: BASE + '/sessions/' + encodeURIComponent(s.id), text: identity(s.subject) })),
        h('td', { text: s.connection }),
        h('td', { text: s.protocol }),
        h('td', {}, timeEl(s.startedAt)),
        h('td', {}, timeEl(s.lastEventAt),
            started !== null && last !== null ? h('span', { class: 'muted', text: ' (' + human(last - started) + ')' }) : null),
        h('td', { class: 'num', text: s.eventCount }),
        h('td', { class: 'num' }, refused > 0 ? badge(String(refused), 'action-deny') : '0'),
        h('td', {}, s.live ? badge('live', 'live') : h('span', { class: 'muted', text: 'ended' })));
  }

  // ---------------------------------------------------------------- one session: replay

  function isRefusal(e) {
    return Boolean(e.verdict && e.verdict.action === 'deny') || REFUSAL_TYPES.has(e.type);
  }

  async function showSession(id, gen) {
    $('session-title').replaceChildren('Session ', h('code', { text: id }));
    $('session-back').href = BASE + '/sessions' + app.lastSearch;
    $('session-header').textContent = '';
    $('session-controls').textContent = '';
    $('events').textContent = '';
    $('events-info').textContent = '';
    $('only-refused').checked = false;
    loading();
    try {
      const body = await api('GET', '/api/v1/sessions/' + encodeURIComponent(id));
      if (gen !== app.gen) return;
      loaded();
      const s = (body && body.session) || {};
      const events = Array.isArray(body && body.events) ? body.events : [];
      drawSessionHeader(s);
      if (s.live) drawSessionControls(s.id || id);
      drawEvents(s.id || id, events);
    } catch (err) {
      if (gen === app.gen) failed(err);
    }
  }

  function drawSessionHeader(s) {
    const dl = h('dl', { class: 'facts' });
    const started = parseTime(s.startedAt);
    const last = parseTime(s.lastEventAt);
    const refused = Number(s.refusedCount) || 0;
    fact(dl, 'Identity', identity(s.subject));
    fact(dl, 'Connection', s.connection);
    fact(dl, 'Protocol', s.protocol);
    fact(dl, 'Client', h('code', { text: s.clientAddress || '' }));
    fact(dl, 'Started', timeEl(s.startedAt));
    fact(dl, 'Last event', [timeEl(s.lastEventAt), started !== null && last !== null ? ' (' + human(last - started) + ' after the start)' : '']);
    fact(dl, 'Operations', String(s.eventCount === undefined ? '' : s.eventCount));
    fact(dl, 'Refused', refused > 0 ? badge(String(refused), 'action-deny') : '0');
    fact(dl, 'State', s.live ? badge('live', 'live') : 'ended');
    $('session-header').replaceChildren(dl);
  }

  // A live session can be re-read (its events keep coming) and, by session admins, terminated.
  function drawSessionControls(id) {
    const reload = h('button', { type: 'button', class: 'button', id: 'session-reload', text: 'Reload events' });
    reload.addEventListener('click', () => route({ focus: false }));
    const box = $('session-controls');
    box.append(h('p', {}, reload));
    if (app.me.roles && app.me.roles.sessionAdmin) box.append(h('div', { class: 'card' }, terminateControl(id)));
  }

  function drawEvents(sessionId, events) {
    const list = $('events');
    events.forEach((e) => list.appendChild(eventItem(sessionId, e)));
    // The player measures its container, so it is started once the list is in the document.
    list.querySelectorAll('div.cast').forEach(startPlayer);
    applyRefusalFilter();
  }

  function eventItem(sessionId, e) {
    const v = e.verdict || null;
    const classes = ['event'];
    if (v && v.action) classes.push('action-' + token(v.action));
    if (isRefusal(e)) classes.push('refused');
    return h('li', { class: classes.join(' '), 'data-seq': e.seq },
        h('div', { class: 'event-head' },
            timeEl(e.at),
            h('span', { class: 'type', text: e.type }),
            e.code ? h('span', { class: 'muted', text: e.code }) : null,
            v ? [h('span', { class: 'sr-only', text: 'verdict' }), badge(v.action, 'verdict action-' + token(v.action))] : null,
            v && v.rule ? [h('span', { class: 'sr-only', text: 'rule' }), h('code', { class: 'rule', text: v.rule })] : null),
        e.summary ? h('code', { class: 'op', text: e.summary }) : null,
        v && v.reason ? h('p', { class: 'reason', text: v.reason }) : null,
        e.upstream ? h('p', { class: 'upstream' }, 'Upstream: ', h('code', { text: e.upstream })) : null,
        e.request ? excerpt('Request', e.request) : null,
        e.response && !e.cast ? excerpt('Response', e.response) : null, // a terminal recording is played below instead
        e.cast ? castBlock(sessionId, e.seq) : null);
  }

  function excerpt(label, x) {
    const notes = [];
    if (Number.isFinite(Number(x.bytes)) && x.bytes !== null) notes.push(x.bytes + ' bytes');
    if (x.truncated) notes.push('truncated');
    return h('details', {},
        h('summary', { text: label + (notes.length ? ' (' + notes.join(', ') + ')' : '') }),
        h('pre', { class: 'excerpt', text: x.text || '' }));
  }

  function castUrl(sessionId, seq) {
    return '/api/v1/sessions/' + encodeURIComponent(sessionId) + '/casts/' + seq;
  }

  function castBlock(sessionId, seq) {
    const url = castUrl(sessionId, seq);
    return h('div', { class: 'cast-wrap' },
        h('div', { class: 'cast', 'data-seq': seq, 'data-src': url }),
        h('p', { class: 'cast-links' },
            h('a', { class: 'download-cast', href: url, download: 'session-' + sessionId + '-' + seq + '.cast',
              text: 'Download the terminal recording (.cast)' })));
  }

  function startPlayer(div) {
    const player = window.AsciinemaPlayer;
    if (!player || typeof player.create !== 'function') {
      div.append(h('p', { class: 'muted' }, 'The player did not load. ',
          h('a', { href: div.dataset.src, download: '', text: 'Download the recording' }), ' to replay it with asciinema.'));
      return;
    }
    try {
      player.create(div.dataset.src, div, { fit: 'width', idleTimeLimit: 2 });
    } catch (err) {
      div.append(h('p', { class: 'error', text: 'Could not start the player: ' + err.message }));
    }
  }

  function applyRefusalFilter() {
    const only = $('only-refused').checked;
    const items = [...$('events').children];
    const refused = items.filter((li) => li.classList.contains('refused')).length;
    items.forEach((li) => { li.hidden = only && !li.classList.contains('refused'); });
    $('events-info').textContent = !items.length ? 'No events recorded.'
        : only && !refused ? 'No refusals in this session.'
        : items.length + ' event' + (items.length === 1 ? '' : 's') + ', ' + refused + ' refused'
          + (only ? '; showing the refusals only.' : '.');
  }

  // ---------------------------------------------------------------- live sessions

  function terminateControl(id) {
    const reason = reasonField(id, 'Reason', 'terminate-reason');
    const button = h('button', { type: 'button', class: 'button danger terminate', 'data-id': id, text: 'Terminate' });
    const msg = h('p', { class: 'message', role: 'status', 'data-live-message': id });
    const box = h('div', { class: 'terminate-box' }, h('div', { class: 'actions' }, reason.wrap, button), msg);
    button.addEventListener('click', () => terminate(box, id, reason.input, msg));
    return box;
  }

  async function terminate(box, id, input, msg) {
    const text = input.value.trim();
    if (!text) { needReason(input, msg, 'Write a reason for terminating, then press Terminate.'); return; }
    if (box.getAttribute('aria-busy') === 'true') return;
    box.setAttribute('aria-busy', 'true');
    tell(msg, 'Terminating\u2026', 'busy');
    try {
      await api('POST', '/api/v1/sessions/' + encodeURIComponent(id) + '/terminate', { reason: text });
      app.sticky.add(id);
      tell(msg, 'Terminated', 'ok');
    } catch (err) {
      if (err.status !== 401) tell(msg, err.message, 'error');
    } finally {
      box.removeAttribute('aria-busy');
    }
  }

  function showLive(_id, gen) {
    $('live-list').textContent = '';
    $('live-empty').hidden = true;
    const load = async () => {
      const body = await api('GET', '/api/v1/sessions/live');
      if (gen !== app.gen) return;
      const items = Array.isArray(body && body.sessions) ? body.sessions : [];
      const list = $('live-list');
      const kept = reconcile(list, items, liveCard, updateLiveCard,
          (card) => app.sticky.has(card.dataset.id) || inUse(card));
      kept.forEach(markClosed);
      $('live-empty').hidden = list.children.length > 0;
      tickAll();
    };
    loadAndPoll(load, gen);
  }

  function liveCard(s) {
    const card = h('article', { class: 'card live', 'data-id': s.id }, h('div', { class: 'card-body' }), terminateControl(s.id));
    updateLiveCard(card, s);
    return card;
  }

  function updateLiveCard(card, s) {
    const key = JSON.stringify(s);
    if (drawn.get(card) === key) return;
    drawn.set(card, key);
    card.classList.remove('ended');
    const dl = h('dl', { class: 'facts' });
    fact(dl, 'Connection', s.connection);
    fact(dl, 'Protocol', s.protocol);
    fact(dl, 'Open for', rel(s.since, 'open'));
    fact(dl, 'Since', timeEl(s.since));
    card.querySelector('.card-body').replaceWith(h('div', { class: 'card-body' },
        h('div', { class: 'card-head' }, h('h2', { text: identity(s.subject) }), badge('live', 'live')),
        dl,
        h('p', { class: 'card-meta' },
            h('a', { href: BASE + '/sessions/' + encodeURIComponent(s.id), text: 'Open session ' + s.id }))));
  }

  // Kept on screen after it closed (just terminated, or the user was typing in it): say so.
  function markClosed(card) {
    drawn.delete(card);
    card.classList.add('ended');
    const b = card.querySelector('.card-head .badge');
    if (b) { b.textContent = 'closed'; b.className = 'badge neutral'; }
  }

  // ---------------------------------------------------------------- trail health

  function showTrail(_id, gen) {
    tell($('trail-status'), 'Checking\u2026', 'neutral');
    $('trail-summary').textContent = '';
    $('trail-problems').textContent = '';
    $('trail-problems').hidden = true;
    $('store-state').textContent = '';
    $('readiness').textContent = '';
    $('readiness-status').textContent = '';
    tell($('verify-message'), '');
    loading();
    loadTrail(gen).then(loaded, (err) => { if (gen === app.gen) failed(err); });
  }

  async function loadTrail(gen) {
    const body = await api('GET', '/api/v1/trail');
    if (gen !== app.gen) return;
    drawTrail(body || {});
  }

  // A verification still running is looked at again shortly; route() cancels this with the poll.
  function followRunning(body, gen) {
    clearTimeout(app.timer);
    if (body.verify && body.verify.running) {
      app.timer = setTimeout(() => loadTrail(gen).catch((err) => { if (gen === app.gen) failed(err); }), POLL_MS);
    }
  }

  function drawTrail(body) {
    const v = body.verify;
    const status = $('trail-status');
    if (!v || (v.running && typeof v.ok !== 'boolean')) tell(status, v ? 'Verifying\u2026' : 'Not verified yet', 'neutral');
    else if (v.ok) tell(status, 'Intact', 'ok');
    else tell(status, 'Tampered', 'error');

    $('trail-summary').replaceChildren(...(v ? [v.summary || '', v.checkedAt ? [' \u2014 checked ', timeEl(v.checkedAt)] : '',
      v.running ? ' A new check is running.' : ''].flat() : ['The trail has not been verified since the gateway started.']));
    const problems = v && Array.isArray(v.problems) ? v.problems : [];
    $('trail-problems').replaceChildren(...problems.map((p) => h('li', { text: p })));
    $('trail-problems').hidden = problems.length === 0;

    const store = body.store || {};
    const dl = $('store-state');
    dl.textContent = '';
    fact(dl, 'Type', store.type);
    fact(dl, 'Where', h('code', { text: store.where || '' }));
    fact(dl, 'Healthy', store.healthy ? badge('healthy', 'ok-badge') : badge('unhealthy', 'action-deny'));
    fact(dl, 'Detail', store.detail);

    const readiness = body.readiness || {};
    $('readiness-status').replaceChildren('Status: ',
        badge(readiness.status || 'unknown', readiness.status === 'ready' ? 'ok-badge' : 'action-deny'));
    const checks = $('readiness');
    checks.textContent = '';
    Object.entries(readiness.checks || {}).forEach(([name, state]) => {
      fact(checks, name, h('span', { class: state === 'ok' ? 'ok' : 'error', text: state }));
    });
    followRunning(body, app.gen);
  }

  async function verifyNow() {
    const button = $('verify-now');
    const msg = $('verify-message');
    const gen = app.gen;
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    tell(msg, 'Verifying\u2026', 'busy');
    try {
      const body = (await api('POST', '/api/v1/trail/verify', {})) || {};
      if (gen !== app.gen) return;
      drawTrail(body);
      const v = body.verify;
      tell(msg, !v || v.running ? 'Verification started.' : v.ok ? 'Verified: intact.' : 'Verified: problems found.', v && !v.running && !v.ok ? 'error' : 'ok');
    } catch (err) {
      failed(err, msg);
    } finally {
      button.removeAttribute('aria-busy');
    }
  }

  // ---------------------------------------------------------------- policy

  async function showPolicy(_id, gen) {
    $('policy-connections').textContent = '';
    loading();
    try {
      const body = await api('GET', '/api/v1/policy');
      if (gen !== app.gen) return;
      loaded();
      app.policy = Array.isArray(body && body.connections) ? body.connections : [];
      $('policy-connections').replaceChildren(...app.policy.map(connectionSection));
      if (!app.policy.length) $('policy-connections').append(h('p', { class: 'info', text: 'No connections are configured.' }));
      fillWhatIf();
    } catch (err) {
      if (gen === app.gen) failed(err);
    }
  }

  function connectionSection(c) {
    const rules = Array.isArray(c.rules) ? c.rules : [];
    const hid = 'connection-' + (++uid);
    return h('section', { class: 'card connection', 'data-name': c.name, 'aria-labelledby': hid },
        h('h2', { id: hid }, c.name, ' ', badge(c.type, 'neutral')),
        h('p', { class: 'muted' }, 'Operations are written as ', h('code', { text: c.operationKey }),
            c.example ? [', for example ', h('code', { text: c.example })] : '', '.'),
        rules.length
          ? h('div', { class: 'table-wrap' }, h('table', { class: 'rules' },
              h('caption', { class: 'sr-only', text: 'Rules for ' + c.name }),
              h('thead', {}, h('tr', {}, ['Rule', 'Description', 'Who', 'Action', 'Source'].map((t) => h('th', { scope: 'col', text: t })))),
              h('tbody', {}, rules.map(ruleRow))))
          : h('p', { class: 'info', text: 'No rules for this connection.' }));
  }

  function ruleRow(r) {
    return h('tr', { 'data-rule': r.id },
        h('th', { scope: 'row' }, h('code', { text: r.id })),
        h('td', { text: r.description || '' }),
        h('td', {}, whoList(r.who)),
        h('td', {}, actionCell(r)),
        h('td', {}, h('details', {}, h('summary', { text: 'As written' }), h('pre', { class: 'source', text: r.source || '' }))));
  }

  function whoList(who) {
    const w = who || {};
    const lines = [];
    if (Array.isArray(w.groups) && w.groups.length) lines.push('groups: ' + w.groups.join(', '));
    if (Array.isArray(w.subjects) && w.subjects.length) lines.push('subjects: ' + w.subjects.join(', '));
    Object.entries(w.claims || {}).forEach(([claim, values]) => {
      lines.push('claim ' + claim + ': ' + [values].flat().join(', '));
    });
    return lines.length ? h('ul', { class: 'plain' }, lines.map((l) => h('li', { text: l }))) : 'anyone';
  }

  function actionCell(r) {
    const parts = [badge(r.action, 'action-' + token(r.action))];
    if (r.mask) parts.push(' ', badge('masked', 'action-mask'));
    if (r.dryRun) parts.push(' ', badge('dry run', 'neutral'));
    if (r.action === 'require-approval') {
      const n = Number(r.approvalsRequired) || 1;
      parts.push(h('div', { class: 'muted', text: n + ' approval' + (n === 1 ? '' : 's')
          + (Array.isArray(r.approvers) && r.approvers.length ? ' from ' + r.approvers.join(', ') : '') }));
    }
    return parts;
  }

  function fillWhatIf() {
    const select = $('wi-connection');
    const previous = select.value;
    select.replaceChildren(...app.policy.map((c) => h('option', { value: c.name, text: c.name + ' (' + c.type + ')' })));
    if (app.policy.some((c) => c.name === previous)) select.value = previous;
    $('wi-run').disabled = app.policy.length === 0;
    whatIfHint();
  }

  // The operation is written the way a policy test file writes it, which differs per connection type.
  function whatIfHint() {
    const c = app.policy.find((x) => x.name === $('wi-connection').value);
    $('wi-operation-label').textContent = c ? 'Operation (' + c.operationKey + ', as in a policy test file)' : 'Operation';
    $('wi-operation').placeholder = (c && c.example) || '';
    $('wi-hint').textContent = c && c.example ? 'For example: ' + c.example : '';
  }

  async function runWhatIf(ev) {
    ev.preventDefault();
    const out = $('wi-result');
    const operation = $('wi-operation').value;
    if (!operation.trim()) {
      out.replaceChildren(h('p', { class: 'error', text: 'Write the operation to test.' }));
      $('wi-operation').focus();
      return;
    }
    const payload = {
      connection: $('wi-connection').value,
      identity: {
        subject: $('wi-subject').value.trim(),
        groups: $('wi-groups').value.split(',').map((g) => g.trim()).filter(Boolean),
      },
      operation,
    };
    out.replaceChildren(h('p', { class: 'busy', text: 'Testing\u2026' }));
    try {
      const r = (await api('POST', '/api/v1/policy/test', payload)) || {};
      out.replaceChildren(whatIfResult(r));
    } catch (err) {
      if (err.status !== 401) out.replaceChildren(h('p', { class: 'error', text: err.message }));
    }
  }

  function whatIfResult(r) {
    const ops = Array.isArray(r.operations) ? r.operations : [];
    const cls = 'action-' + token(r.action);
    return h('div', { class: 'wi-outcome ' + cls },
        h('p', { class: 'wi-verdict' }, 'Outcome: ', badge(r.action, cls),
            r.rule ? [' by rule ', h('code', { class: 'rule', text: r.rule })] : ' (no rule matched)'),
        r.reason ? h('p', { text: r.reason }) : null,
        ops.length ? [h('p', { class: 'label', text: 'Operations judged' }),
          h('ul', { class: 'ops' }, ops.map((o) => h('li', {}, h('code', { text: o }))))] : null,
        r.masking ? h('p', { text: 'Masking: ' + r.masking }) : null);
  }

  // ---------------------------------------------------------------- start

  function bind() {
    document.addEventListener('click', onDocumentClick);
    window.addEventListener('popstate', () => { if (app.me) route({}); });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && app.poll) app.poll();
    });
    $('sign-out').addEventListener('click', signOut);
    $('state').addEventListener('change', onFilterChange);
    $('session-search').addEventListener('submit', onSearch);
    $('only-refused').addEventListener('change', applyRefusalFilter);
    $('verify-now').addEventListener('click', verifyNow);
    $('wi-connection').addEventListener('change', whatIfHint);
    $('what-if').addEventListener('submit', runWhatIf);
    setInterval(tickAll, 10000);
  }

  async function start() {
    bind();
    loading();
    try {
      const me = await api('GET', '/api/v1/me');
      loaded();
      signedIn(me || {});
      route({ initial: true });
    } catch (err) {
      failed(err); // a 401 has shown the sign-in section already
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
