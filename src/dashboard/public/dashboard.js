// The geocdn dashboard: polls the admin API with the bearer token and draws
// the POPs on a world map (d3-geo + topojson-client, served by the admin API).
// Plain script, no build step. Everything from the API is written with
// textContent or attributes, never as HTML.
'use strict';

(function () {
  const TOKEN_KEY = 'geocdn-admin-token';
  const POLL_MS = 2000;
  const SVG = 'http://www.w3.org/2000/svg';
  const CACHED = ['HIT', 'UPDATING', 'STALE', 'REVALIDATED'];
  const STATUSES = ['HIT', 'UPDATING', 'STALE', 'REVALIDATED', 'MISS', 'EXPIRED', 'BYPASS'];

  const $ = (id) => document.getElementById(id);
  let token = takeToken();
  let timer;
  let map; // { projection, path, popLayer, routeLayer }
  let lastPops = [];

  // A `#token=` fragment (the demo prints such a link) is kept for this tab and removed from the address bar.
  function takeToken() {
    const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function el(tag, attrs, ...children) {
    const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    for (const c of children) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, cache: 'no-store' });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) throw Object.assign(new Error('the admin API refused this token'), { unauthorized: true });
    if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
    return body;
  }

  function setStatus(text, bad) {
    const s = $('status');
    s.textContent = text;
    s.classList.toggle('bad', !!bad);
  }

  function askToken(message) {
    clearTimeout(timer);
    $('main').hidden = true;
    $('forget').hidden = true;
    $('token-form').hidden = false;
    $('token-error').hidden = !message;
    $('token-error').textContent = message || '';
    setStatus('no token', !!message);
    $('token').focus();
  }

  async function poll() {
    clearTimeout(timer);
    try {
      const data = await api('/v1/dashboard');
      $('token-form').hidden = true;
      $('main').hidden = false;
      $('forget').hidden = false;
      $('node').textContent = `nameserver ${data.node}`;
      setStatus(`updated ${new Date(data.time).toLocaleTimeString()}`);
      renderPops(data.pops);
      renderPurges(data.purges);
    } catch (e) {
      if (e.unauthorized) return askToken(e.message);
      setStatus(`cannot reach the admin API: ${e.message}`, true);
    }
    timer = setTimeout(poll, POLL_MS);
  }

  // --- POPs -----------------------------------------------------------------

  function ago(iso) {
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s ago`;
    return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m ago`;
  }

  function statusBar(counts) {
    if (!counts) return el('span', { class: 'muted' }, '—');
    const total = STATUSES.reduce((n, k) => n + (counts[k] || 0), 0);
    const bar = el('div', { class: 'bar', title: 'share of answers per X-Cache-Status' });
    const text = [];
    for (const k of STATUSES) {
      const n = counts[k] || 0;
      if (n === 0) continue;
      const part = el('span', { class: k, title: `${k} ${n}` });
      part.style.width = `${(100 * n) / total}%`;
      bar.append(part);
      text.push(`${k} ${n}`);
    }
    const cached = CACHED.reduce((n, k) => n + (counts[k] || 0), 0);
    const summary = total ? `${Math.round((100 * cached) / total)}% from cache · ${text.join(' · ')}` : 'no requests yet';
    return el('div', {}, bar, el('span', { class: 'counts' }, summary));
  }

  function renderPops(pops) {
    lastPops = pops;
    const body = $('pops').tBodies[0];
    body.replaceChildren(
      ...pops.map((p) => {
        const kind = p.state.kind;
        const probe = p.last_probe ? `${p.last_probe.ok ? 'ok' : 'fail'} ${p.last_probe.ms} ms · ${p.last_probe.reason}` : 'not probed yet';
        return el(
          'tr',
          { 'data-pop': p.name, 'data-state': kind },
          el('td', {}, el('strong', {}, p.name), el('span', { class: 'reason' }, [p.country, p.edge].filter(Boolean).join(' · '))),
          el('td', {}, el('span', { class: `state ${kind}` }, kind), el('span', { class: 'reason' }, p.state.reason)),
          el('td', {}, ago(p.state.since)),
          el('td', { class: 'num' }, p.requests_per_second === null ? '—' : p.requests_per_second.toFixed(1)),
          el('td', { class: 'num' }, p.hit_ratio === null ? '—' : `${Math.round(p.hit_ratio * 100)}%`),
          el('td', {}, statusBar(p.cache_statuses)),
          el('td', { class: 'small' }, probe),
        );
      }),
    );
    drawPops();
  }

  function renderPurges(purges) {
    $('no-purges').hidden = purges.length > 0;
    $('purges').tBodies[0].replaceChildren(
      ...purges.map((p) => {
        const result = p.queued ? 'queued (bus down)' : `${p.applied} edge(s) in ${p.ms} ms${p.missing.length ? `, missing ${p.missing.join(', ')}` : ''}`;
        return el('tr', { 'data-purge': p.id }, el('td', {}, ago(p.at)), el('td', {}, `${p.soft ? 'soft ' : ''}${p.what}`), el('td', { class: p.complete ? '' : 'error' }, result));
      }),
    );
  }

  // --- the map ----------------------------------------------------------------

  async function loadMap() {
    const svg = $('map');
    if (!window.d3 || !window.topojson) return;
    const world = await fetch('/dashboard/countries-110m.json').then((r) => r.json());
    const projection = d3.geoNaturalEarth1().fitExtent([[8, 8], [952, 492]], { type: 'Sphere' });
    const path = d3.geoPath(projection);
    const land = topojson.feature(world, world.objects.countries);
    const borders = topojson.mesh(world, world.objects.countries, (a, b) => a !== b);
    const routeLayer = el('svg:g', { class: 'routes' });
    const popLayer = el('svg:g', { class: 'pops' });
    svg.replaceChildren(
      el('svg:path', { class: 'sphere', d: path({ type: 'Sphere' }) }),
      el('svg:path', { class: 'land', d: path(land) }),
      el('svg:path', { class: 'borders', d: path(borders) }),
      routeLayer,
      popLayer,
    );
    map = { projection, path, popLayer, routeLayer };
    drawPops();
  }

  function drawPops() {
    if (!map) return;
    map.popLayer.replaceChildren(
      ...lastPops
        .filter((p) => p.location)
        .map((p) => {
          const [x, y] = map.projection([p.location[1], p.location[0]]);
          const kind = p.state.kind;
          const rps = p.requests_per_second ? ` · ${p.requests_per_second.toFixed(1)} req/s` : '';
          return el(
            'svg:g',
            { class: `pop ${kind}`, 'data-pop': p.name, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` },
            el('svg:title', {}, `${p.name}: ${kind}${rps}`),
            el('svg:circle', { r: 8 }),
            el('svg:text', { x: 12, y: 4 }, p.name),
          );
        }),
    );
  }

  function drawRoute(from, popName) {
    if (!map) return;
    map.routeLayer.replaceChildren();
    const pop = lastPops.find((p) => p.name === popName);
    if (!from) return;
    const client = [from[1], from[0]];
    const [x, y] = map.projection(client);
    if (pop && pop.location) map.routeLayer.append(el('svg:path', { class: 'route', d: map.path({ type: 'LineString', coordinates: [client, [pop.location[1], pop.location[0]]] }) }));
    map.routeLayer.append(el('svg:circle', { class: 'client', r: 5, cx: x.toFixed(1), cy: y.toFixed(1) }));
  }

  // --- which POP would an IP get ------------------------------------------------

  async function lookUp(event) {
    event.preventDefault();
    const out = $('route-result');
    const ip = $('ip').value.trim();
    try {
      const r = await api(`/v1/dashboard/route?ip=${encodeURIComponent(ip)}`);
      const where = [r.city, r.country_name || r.country, r.continent].filter(Boolean).join(', ') || (r.special ? `${r.special} address` : 'unknown');
      const list = el('dl', {}, el('dt', {}, 'network'), el('dd', {}, r.network), el('dt', {}, 'location'), el('dd', {}, where));
      if (r.asn) list.append(el('dt', {}, 'AS'), el('dd', {}, `AS${r.asn.asn} ${r.asn.org || ''}`));
      for (const s of r.services) {
        const why = `rule ${s.rule}${s.because ? `, because ${s.because}` : ''}${s.all_down ? ' (every POP down)' : ''} · scope /${s.scope}`;
        list.append(el('dt', {}, s.service), el('dd', { 'data-service': s.service, 'data-pop': s.pop }, el('span', { class: 'result-pop' }, s.pop), ` ${s.addresses.join(' ')}`, el('span', { class: 'reason' }, why)));
      }
      out.replaceChildren(list);
      drawRoute(r.location, r.services[0] && r.services[0].pop);
    } catch (e) {
      if (e.unauthorized) return askToken(e.message);
      out.replaceChildren(el('p', { class: 'error' }, e.message));
      drawRoute(null);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      token = $('token').value.trim();
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token').value = '';
      poll();
    });
    $('forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      askToken();
    });
    $('route-form').addEventListener('submit', lookUp);
    loadMap().catch((e) => setStatus(`map not drawn: ${e.message}`, true));
    if (token) poll();
    else askToken();
  });
})();
