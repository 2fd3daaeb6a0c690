// Portcullis approval page. All text from the API is rendered with textContent, never as HTML.
// Acting on a request always needs a button click: nothing is decided on page load.
(function () {
  'use strict';
  var API = '/api/v1/approvals';
  var KEY = 'portcullis.approvals.token';
  var ID = /^apr_[a-z2-7]{20}$/;
  var STATES = ['pending', 'approved', 'denied', 'expired', 'released', 'revoked', 'all'];
  var DONE = { approve: 'Approved', deny: 'Denied', revoke: 'Revoked' };
  var DOING = { approve: 'Approving\u2026', deny: 'Denying\u2026', revoke: 'Revoking\u2026' };

  var path = window.location.pathname.replace(/\/+$/, '');
  var single = path.indexOf('/approvals/') === 0 ? decodeURIComponent(path.substring('/approvals/'.length)) : null;
  var preselect = new URLSearchParams(window.location.search).get('decision');
  if (preselect !== 'approve' && preselect !== 'deny') preselect = null;
  var initialState = new URLSearchParams(window.location.search).get('state');
  if (STATES.indexOf(initialState) < 0) initialState = 'pending';

  var tokenInput, statusEl, listEl, stateSelect;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function say(target, text, kind) {
    target.textContent = text || '';
    target.className = kind || '';
  }

  function token() {
    return (sessionStorage.getItem(KEY) || '').trim();
  }

  function problemText(res, body) {
    if (body && typeof body.detail === 'string' && body.detail) return body.detail;
    if (body && typeof body.title === 'string' && body.title) return body.title;
    return 'HTTP ' + res.status;
  }

  function api(method, url, payload) {
    var headers = { 'Accept': 'application/json', 'Authorization': 'Bearer ' + token() };
    var init = { method: method, headers: headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(payload);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (!res.ok) {
          var err = new Error(problemText(res, body));
          err.status = res.status;
          throw err;
        }
        return body;
      });
    });
  }

  function row(dl, label, value) {
    dl.appendChild(el('dt', null, label));
    var dd = el('dd');
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value === undefined || value === null ? '' : String(value);
    dl.appendChild(dd);
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString() + ' (' + iso + ')';
  }

  function minutes(n) {
    return n + ' minute' + (n === 1 ? '' : 's');
  }

  // An approved grant whose time has not run out: only then can it be revoked.
  function running(r) {
    return r.state === 'approved' && r.grant && typeof r.grant.until === 'string' && Date.parse(r.grant.until) > Date.now();
  }

  function reasonInput(cls, label, id) {
    var input = el('input', cls);
    input.type = 'text';
    input.maxLength = 2000;
    input.placeholder = label;
    input.setAttribute('aria-label', label + ' ' + id);
    input.setAttribute('data-id', id);
    return input;
  }

  function button(cls, label, id) {
    var b = el('button', cls, label);
    b.type = 'button';
    b.setAttribute('data-id', id);
    return b;
  }

  function render(r) {
    var art = el('article');
    art.setAttribute('data-id', r.id);
    var h = el('h2');
    var a = el('a', null, r.id);
    a.href = '/approvals/' + encodeURIComponent(r.id);
    h.appendChild(a);
    h.appendChild(document.createTextNode(' \u2014 ' + r.state));
    art.appendChild(h);

    var dl = el('dl');
    row(dl, 'Operation', el('code', 'op', (r.protocol ? r.protocol + ': ' : '') + r.summary));
    if (typeof r.detail === 'string' && r.detail !== '' && r.detail !== r.summary) {
      row(dl, 'Exactly', el('pre', 'detail', r.detail));
    }
    var groups = r.requester && Array.isArray(r.requester.groups) && r.requester.groups.length ? ' (' + r.requester.groups.join(', ') + ')' : '';
    row(dl, 'Requester', (r.requester ? r.requester.subject : '') + groups);
    row(dl, 'Connection', r.connection);
    row(dl, 'Rule', r.ruleId);
    row(dl, 'Reason', r.reason);
    var approvals = Array.isArray(r.approvals) ? r.approvals : [];
    var who = approvals.map(function (x) { return x.subject; }).join(', ');
    row(dl, 'Approvals', approvals.length + ' of ' + r.approvalsRequired + (who ? ': ' + who : '')
        + (Array.isArray(r.approverGroups) && r.approverGroups.length ? ' \u2014 approvers: ' + r.approverGroups.join(', ') : ''));
    row(dl, 'Expires', when(r.expiresAt));
    if (r.grant) {
      row(dl, 'Grant', 'grants ' + minutes(r.grant.minutes) + ' of access to rule ' + r.ruleId + ' once approved');
      if (typeof r.grant.until === 'string' && r.state === 'approved') {
        row(dl, 'Access', 'access until ' + when(r.grant.until) + (running(r) ? '' : ' (ended)'));
      } else if (typeof r.grant.until === 'string' && r.state === 'expired') {
        row(dl, 'Access', 'access ended ' + when(r.grant.until));
      }
    }
    if (r.denial) row(dl, 'Denied', r.denial.subject + ': ' + r.denial.reason);
    if (r.revocation) row(dl, 'Revoked', r.revocation.subject + ': ' + r.revocation.reason + ' \u2014 ' + when(r.revocation.at));
    art.appendChild(dl);

    var msg = el('p', null);
    msg.setAttribute('role', 'alert');
    msg.setAttribute('data-message', r.id);

    if (r.state === 'pending') {
      var actions = el('div', 'actions');
      var approve = button('approve', 'Approve', r.id);
      var reason = reasonInput('deny-reason', 'Reason for denying', r.id);
      var deny = button('deny', 'Deny', r.id);
      actions.appendChild(approve);
      actions.appendChild(reason);
      actions.appendChild(deny);
      art.appendChild(actions);

      var buttons = [approve, deny];
      approve.addEventListener('click', function () {
        decide(r.id, 'approve', undefined, msg, buttons);
      });
      deny.addEventListener('click', function () {
        var text = reason.value.trim();
        if (!text) { say(msg, 'A denial needs a reason.', 'error'); reason.focus(); return; }
        decide(r.id, 'deny', { reason: text }, msg, buttons);
      });
      if (single && preselect) {
        art.classList.add('preselected');
        (preselect === 'approve' ? approve : reason).focus();
      }
    } else if (running(r)) {
      var revokeActions = el('div', 'actions');
      var why = reasonInput('revoke-reason', 'Reason for revoking', r.id);
      var revoke = button('revoke', 'Revoke', r.id);
      revokeActions.appendChild(why);
      revokeActions.appendChild(revoke);
      art.appendChild(revokeActions);
      revoke.addEventListener('click', function () {
        var text = why.value.trim();
        if (!text) { say(msg, 'A revocation needs a reason.', 'error'); why.focus(); return; }
        decide(r.id, 'revoke', { reason: text }, msg, [revoke]);
      });
    }
    art.appendChild(msg);
    return art;
  }

  function decide(id, action, payload, msg, buttons) {
    if (!ID.test(id)) return;
    buttons.forEach(function (b) { b.disabled = true; });
    say(msg, DOING[action]);
    api('POST', API + '/' + encodeURIComponent(id) + '/' + action, payload).then(function (r) {
      var art = render(r);
      var m = art.querySelector('[data-message]');
      say(m, DONE[action] + ': request is now ' + r.state + '.', 'ok');
      var old = listEl.querySelector('article[data-id="' + id + '"]');
      if (old) listEl.replaceChild(art, old); else listEl.appendChild(art);
    }, function (e) {
      say(msg, e.message, 'error');
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  // Live sessions, for session admins (admin.session-admins): each can be ended at once, with a reason.
  var SESSION = /^[A-Za-z0-9_.:-]{1,128}$/;

  function renderLive(s) {
    var art = el('article', 'live');
    art.setAttribute('data-session', s.id);
    art.appendChild(el('h3', null, s.subject + ' — ' + s.protocol + ' via ' + s.connection));
    var dl = el('dl');
    row(dl, 'Session', el('code', null, s.id));
    row(dl, 'Since', when(s.since));
    art.appendChild(dl);
    var msg = el('p', null);
    msg.setAttribute('role', 'alert');
    var actions = el('div', 'actions');
    var why = reasonInput('terminate-reason', 'Reason for terminating', s.id);
    var end = button('terminate', 'Terminate', s.id);
    actions.appendChild(why);
    actions.appendChild(end);
    art.appendChild(actions);
    art.appendChild(msg);
    end.addEventListener('click', function () {
      var text = why.value.trim();
      if (!text) { say(msg, 'Terminating needs a reason.', 'error'); why.focus(); return; }
      if (!SESSION.test(s.id)) return;
      end.disabled = true;
      say(msg, 'Terminating…');
      api('POST', '/api/v1/sessions/' + encodeURIComponent(s.id) + '/terminate', { reason: text }).then(function (r) {
        say(msg, 'Terminated by ' + r.by + ': ' + r.reason, 'ok');
      }, function (e) {
        say(msg, e.message, 'error');
        end.disabled = false;
      });
    });
    return art;
  }

  function loadLive() {
    var section = document.getElementById('live');
    var status = document.getElementById('live-status');
    var list = document.getElementById('live-list');
    list.textContent = '';
    if (!token() || single !== null) { section.hidden = true; return; }
    api('GET', '/api/v1/sessions/live').then(function (body) {
      var items = body && Array.isArray(body.sessions) ? body.sessions : [];
      section.hidden = false;
      say(status, items.length ? items.length + ' open now.' : 'No session is open now.');
      items.forEach(function (s) { list.appendChild(renderLive(s)); });
    }, function (e) {
      // Not a session admin (403), or no sessions API: the section stays away, saying nothing false.
      section.hidden = e.status === 403 || e.status === 404;
      say(status, e.message, 'error');
    });
  }

  function load() {
    loadLive();
    listEl.textContent = '';
    if (!token()) { say(statusEl, 'Paste your OIDC access token and press Load.'); return; }
    if (single !== null) {
      if (!ID.test(single)) { say(statusEl, 'Not an approval request id: ' + single, 'error'); return; }
      say(statusEl, 'Loading\u2026');
      api('GET', API + '/' + encodeURIComponent(single)).then(function (r) {
        say(statusEl, r.state === 'pending' ? '' : running(r) ? 'This grant is running; it can be revoked.'
            : 'This request is ' + r.state + '; it can no longer be decided.');
        listEl.appendChild(render(r));
      }, function (e) { say(statusEl, e.message, 'error'); });
    } else {
      var state = STATES.indexOf(stateSelect.value) < 0 ? 'pending' : stateSelect.value;
      var kind = state === 'all' ? '' : state + ' ';
      say(statusEl, 'Loading\u2026');
      api('GET', API + '?state=' + encodeURIComponent(state)).then(function (body) {
        var items = body && Array.isArray(body.approvals) ? body.approvals : [];
        say(statusEl, items.length ? items.length + ' ' + kind + 'request' + (items.length === 1 ? '' : 's') + '.'
            : 'No ' + kind + 'requests.');
        items.forEach(function (r) { listEl.appendChild(render(r)); });
      }, function (e) { say(statusEl, e.message, 'error'); });
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    tokenInput = document.getElementById('token');
    statusEl = document.getElementById('status');
    listEl = document.getElementById('requests');
    stateSelect = document.getElementById('state');
    stateSelect.value = initialState;
    document.getElementById('filter').hidden = single !== null;
    stateSelect.addEventListener('change', function () {
      var url = new URL(window.location.href);
      url.searchParams.set('state', stateSelect.value);
      window.history.replaceState(null, '', url.pathname + url.search);
      load();
    });
    tokenInput.value = token();
    function save() {
      var t = tokenInput.value.trim();
      if (t) sessionStorage.setItem(KEY, t); else sessionStorage.removeItem(KEY);
    }
    tokenInput.addEventListener('change', save);
    tokenInput.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { save(); load(); } });
    document.getElementById('load').addEventListener('click', function () { save(); load(); });
    document.getElementById('forget').addEventListener('click', function () {
      sessionStorage.removeItem(KEY);
      tokenInput.value = '';
      listEl.textContent = '';
      say(statusEl, 'Token forgotten.');
    });
    load();
  });
})();
