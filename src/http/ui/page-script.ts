// The dashboard's script (issue 26), inlined into the page. Plain ES5-style browser JS in a string: no build step.
// It renders the snapshots of the relative URL ui/events (EventSource), keeps the last minute of bit rates per stream
// and in total for the graphs, lists the FFmpeg processes (broadcasts) by group, and sends the actions (with confirm)
// to the management API, forwarding ?api_token=.
export const DASHBOARD_SCRIPT = String.raw`
(function(){
  'use strict';
  var HISTORY = 60;
  var token = new URLSearchParams(location.search).get('api_token');
  // Relative to the page: behind a prefix-stripping nginx the browser keeps the prefix for us. Opened as ".../ui/",
  // the API is one level up.
  var base = /\/$/.test(location.pathname) ? '../' : '';
  function url(p){ p = base + p; return token ? p + (p.indexOf('?') < 0 ? '?' : '&') + 'api_token=' + encodeURIComponent(token) : p; }
  function $(id){ return document.getElementById(id); }
  function role(el, name){ return el.querySelector('[data-role="' + name + '"]'); }
  function setText(el, text){ text = String(text); if (el.textContent !== text) el.textContent = text; }

  function fmtRate(bps){
    var units = [[1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s']];
    for (var i = 0; i < units.length; i++) if (bps >= units[i][0]) return (bps / units[i][0]).toFixed(2) + ' ' + units[i][1];
    return Math.round(bps) + ' bit/s';
  }
  function fmtBytes(n){
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }

  // A bit-rate series: fed the cumulative byte counter and the snapshot time, it keeps bits per second.
  function Series(){ this.values = []; this.lastT = null; this.lastBytes = 0; }
  Series.prototype.add = function(t, bytes){
    if (this.lastT !== null && t > this.lastT) {
      // A counter that went back is a stream created anew under the same id: no rate for that step.
      var rate = bytes >= this.lastBytes ? (bytes - this.lastBytes) * 8000 / (t - this.lastT) : 0;
      this.values.push(rate);
      if (this.values.length > HISTORY) this.values.shift();
    }
    this.lastT = t; this.lastBytes = bytes;
  };
  Series.prototype.current = function(){ return this.values.length ? this.values[this.values.length - 1] : 0; };
  function draw(svg, series){
    var line = svg.querySelector('polyline'), v = series.values, max = 0, pts = [];
    for (var i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
    for (var j = 0; j < v.length; j++) {
      var x = (HISTORY - v.length + j) * (120 / (HISTORY - 1));
      // Headroom above the peak, so a steady rate draws a visible line below the top edge.
      var y = max > 0 ? 30 - (v[j] / max) * 24 : 29;
      pts.push(x.toFixed(1) + ',' + y.toFixed(1));
    }
    line.setAttribute('points', pts.join(' '));
    svg.setAttribute('aria-label', 'bit rate, peak ' + fmtRate(max));
  }

  function act(label, method, path){
    if (!confirm(label + '?')) return;
    setText($('msg'), label + '\u2026');
    fetch(url(path), {method: method}).then(function(r){
      return r.json().then(function(body){
        var detail = body && (body.message || body.detail);
        setText($('msg'), (r.ok ? '' : 'failed (' + r.status + '): ') + label + (detail ? ': ' + detail : ''));
      });
    }).catch(function(e){ setText($('msg'), 'failed: ' + label + ': ' + e); });
  }

  var CARD = '<div class="head"><h2 data-role="id"></h2><span class="type" data-role="type"></span></div>' +
    '<div class="rate-row"><span class="rate" data-role="rate">0 bit/s</span>' +
    '<svg class="graph" viewBox="0 0 120 30" preserveAspectRatio="none" role="img"><polyline/></svg></div>' +
    '<dl><dt>Viewers</dt><dd data-role="clients"></dd><dt>Provider connections</dt><dd data-role="upstream"></dd>' +
    '<dt>Failover</dt><dd data-role="failover"></dd><dt>Served</dt><dd data-role="bytes"></dd></dl>' +
    '<div class="actions"><button type="button" data-action="failover">Fail over</button>' +
    '<button type="button" class="danger" data-action="delete">Delete</button></div>' +
    '<ul class="clients" data-role="client-list"></ul>';

  // Keyed by ids that come from players (client_id): no prototype, so __proto__ or constructor is just a key.
  var cards = Object.create(null);
  var total = new Series();

  function card(id){
    var c = cards[id];
    if (c) return c;
    var el = document.createElement('article');
    el.className = 'card stream'; el.innerHTML = CARD; el.setAttribute('data-stream-id', id);
    setText(role(el, 'id'), id);
    var path = 'streams/' + encodeURIComponent(id);
    el.querySelector('[data-action="failover"]').onclick = function(){ act('Fail over stream ' + id, 'POST', path + '/failover'); };
    el.querySelector('[data-action="delete"]').onclick = function(){ act('Delete stream ' + id, 'DELETE', path); };
    c = cards[id] = {el: el, series: new Series(), clients: Object.create(null)};
    $('streams').appendChild(el);
    return c;
  }

  function renderClients(c, s){
    var list = role(c.el, 'client-list'), seen = Object.create(null);
    s.clients.forEach(function(cl){
      seen[cl.client_id] = true;
      var li = c.clients[cl.client_id];
      if (!li) {
        li = c.clients[cl.client_id] = document.createElement('li');
        li.setAttribute('data-client-id', cl.client_id);
        li.innerHTML = '<span class="who"></span><button type="button" data-action="kick">Kick</button>';
        li.querySelector('button').onclick = function(){
          act('Kick client ' + cl.client_id + ' from ' + s.stream_id, 'DELETE',
            'hls/' + encodeURIComponent(s.stream_id) + '/clients/' + encodeURIComponent(cl.client_id));
        };
        list.appendChild(li);
      }
      setText(li.firstChild, cl.client_id + ' \u00b7 ' + cl.ip_address + (cl.username ? ' \u00b7 ' + cl.username : '') + ' \u00b7 ' +
        fmtBytes(cl.bytes_served) + ' \u00b7 ' + cl.user_agent);
    });
    for (var id in c.clients) if (!seen[id]) { list.removeChild(c.clients[id]); delete c.clients[id]; }
  }

  function renderStream(snap, s){
    var c = card(s.stream_id), el = c.el;
    c.series.add(snap.t, s.bytes_served);
    setText(role(el, 'type'), s.stream_type);
    setText(role(el, 'rate'), fmtRate(c.series.current()));
    draw(el.querySelector('svg'), c.series);
    setText(role(el, 'clients'), s.client_count + (s.clients_truncated ? ' (first ' + s.clients.length + ' listed)' : ''));
    setText(role(el, 'upstream'), s.upstream_connections);
    setText(role(el, 'failover'), 'URL ' + (s.current_failover_index + 1) + ' of ' + s.url_count + ' \u00b7 ' + s.failover_count +
      ' failover' + (s.failover_count === 1 ? '' : 's') + (s.last_failover_time ? ' \u00b7 last ' + new Date(s.last_failover_time).toLocaleTimeString() : ''));
    setText(role(el, 'bytes'), fmtBytes(s.bytes_served) + (s.error_count ? ' \u00b7 ' + s.error_count + ' errors' : ''));
    el.querySelector('[data-action="failover"]').disabled = !s.has_failover;
    el.classList.toggle('active', s.client_count > 0);
    renderClients(c, s);
  }

  // FFmpeg processes (broadcasts): one section per group of the snapshot, one card per process.
  var PROC = '<div class="head"><h3 data-role="id"></h3><span class="pill" data-role="status"></span></div>' +
    '<dl><dt>PID</dt><dd data-role="pid"></dd><dt data-role="segment-label">Segment</dt><dd data-role="segment"></dd>' +
    '<dt>Started</dt><dd data-role="started"></dd><dt>Written</dt><dd data-role="written"></dd>' +
    '<dt>Source</dt><dd class="url" data-role="url"></dd><dt data-role="error-label">Error</dt><dd data-role="error"></dd></dl>' +
    '<div class="actions"><button type="button" class="danger" data-action="stop">Stop</button></div>';
  var groups = Object.create(null);

  function group(g){
    var sec = groups[g.kind];
    if (sec) return sec;
    var el = document.createElement('section');
    el.className = 'procs'; el.setAttribute('data-kind', g.kind); el.setAttribute('aria-label', g.title);
    el.innerHTML = '<h2><span data-role="title"></span> <span class="muted" data-role="count"></span></h2>' +
      '<p class="muted" data-role="none">none</p><div class="grid" data-role="list"></div>';
    setText(role(el, 'title'), g.title);
    $('processes').appendChild(el);
    return groups[g.kind] = {el: el, cards: Object.create(null)};
  }

  function processCard(sec, g, p){
    var c = sec.cards[p.id];
    if (c) return c;
    var el = document.createElement('article');
    el.className = 'card proc'; el.innerHTML = PROC; el.setAttribute('data-process-id', p.id);
    setText(role(el, 'id'), p.id);
    c = sec.cards[p.id] = {el: el, series: new Series(), stop: null};
    // The path comes from the latest snapshot: null (disabled) once the process is not running.
    el.querySelector('[data-action="stop"]').onclick = function(){
      if (c.stop) act('Stop ' + g.kind + ' ' + p.id, c.stop.method, c.stop.path);
    };
    role(sec.el, 'list').appendChild(el);
    return c;
  }

  function renderProcess(snap, sec, g, p){
    var c = processCard(sec, g, p), el = c.el, seg = p.current_segment_number !== null;
    c.stop = p.stop;
    c.series.add(snap.t, p.bytes_written);
    el.className = 'card proc ' + p.status;
    setText(role(el, 'status'), p.status);
    role(el, 'status').className = 'pill' + (p.status === 'running' ? ' ok' : p.status === 'failed' ? ' bad' : '');
    setText(role(el, 'pid'), p.pid);
    role(el, 'segment-label').hidden = role(el, 'segment').hidden = !seg;
    if (seg) setText(role(el, 'segment'), p.current_segment_number);
    setText(role(el, 'started'), new Date(p.started_at).toLocaleString());
    setText(role(el, 'written'), fmtBytes(p.bytes_written) + (p.status === 'running' ? ' \u00b7 ' + fmtRate(c.series.current()) : ''));
    setText(role(el, 'url'), p.stream_url);
    role(el, 'error-label').hidden = role(el, 'error').hidden = p.error_message === null;
    setText(role(el, 'error'), p.error_message || '');
    el.querySelector('[data-action="stop"]').disabled = !p.stop;
  }

  function renderGroups(snap){
    snap.processes.forEach(function(g){
      var sec = group(g), seen = Object.create(null);
      g.items.forEach(function(p){ seen[p.id] = true; renderProcess(snap, sec, g, p); });
      for (var id in sec.cards) if (!seen[id]) { sec.cards[id].el.remove(); delete sec.cards[id]; }
      setText(role(sec.el, 'count'), g.total === 0 ? '' : g.total + (g.truncated ? ' (' + g.items.length + ' listed)' : ''));
      role(sec.el, 'none').hidden = g.total > 0;
    });
  }

  function render(snap){
    var seen = Object.create(null);
    snap.streams.forEach(function(s){ seen[s.stream_id] = true; renderStream(snap, s); });
    for (var id in cards) if (!seen[id]) { cards[id].el.remove(); delete cards[id]; }
    total.add(snap.t, snap.total_bytes_served);
    setText($('t-streams'), snap.total_streams + (snap.streams_truncated ? ' (' + snap.streams.length + ' listed)' : ''));
    setText($('t-clients'), snap.total_clients);
    setText($('t-upstream'), snap.total_upstream_connections);
    setText($('t-rate'), fmtRate(total.current()));
    draw($('t-graph'), total);
    $('empty').hidden = snap.total_streams > 0;
    renderGroups(snap);
    setText($('updated'), new Date(snap.t).toLocaleTimeString());
  }

  var source = new EventSource(url('ui/events'));
  source.onopen = function(){ setText($('conn'), 'live'); $('conn').className = 'pill ok'; };
  source.onmessage = function(ev){ render(JSON.parse(ev.data)); };
  source.onerror = function(){
    var closed = source.readyState === EventSource.CLOSED;
    setText($('conn'), closed ? 'disconnected (check api_token)' : 'reconnecting\u2026');
    $('conn').className = 'pill bad';
  };
})();
`;
