// Ratio tables from the peer scripts' TSV output, shared by each bench and by run.mjs.

/**
 * Markdown table: ours per case (a DNS mode, an object size), and its ratio
 * to each peer measured in the same run. `rows` are [peer, case, figure].
 */
function ratioTable(rows, ours, caseTitle, unit) {
  const figure = new Map(rows.map(([peer, c, v]) => [`${peer}/${c}`, Number(v)]));
  const cases = [...new Set(rows.map((r) => r[1]))];
  const peers = [...new Set(rows.map((r) => r[0]))].filter((p) => p !== ours);
  const lines = [`| ${caseTitle} | ${ours} ${unit} | ` + peers.map((p) => `${p} ${unit} | ${ours}/${p}`).join(' | ') + ' |'];
  lines.push('|' + ' --- |'.repeat(2 + peers.length * 2));
  for (const c of cases) {
    const g = figure.get(`${ours}/${c}`);
    const cells = peers.map((p) => {
      const v = figure.get(`${p}/${c}`);
      return `${v || 'n/a'} | ${g && v ? (g / v).toFixed(2) + '×' : 'n/a'}`;
    });
    lines.push(`| ${c} | ${g || 'n/a'} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const tsvRows = (text) => text.trim().split('\n').slice(1).map((l) => l.split('\t'));

/** dns-peers.sh --out: peer, mode, qps, … */
export function dnsRatios(tsvText) {
  return ratioTable(tsvRows(tsvText).map(([peer, mode, qps]) => [peer, mode, qps]), 'geocdn', 'mode', 'QPS');
}

/**
 * http-peers.sh results: peer, tool, size, req/s, … (wrk rows only). One table per
 * geocdn edge measured (`edge`: memory tier; `edge-disk`: disk tier only), each beside the peers.
 */
export function httpRatios(tsvText) {
  const rows = tsvRows(tsvText).filter((r) => r[1] === 'wrk').map(([peer, , size, rps]) => [peer, size, rps]);
  const ours = ['edge', 'edge-disk'].filter((name) => rows.some((r) => r[0] === name));
  return ours
    .map((name) => ratioTable(rows.filter((r) => r[0] === name || !ours.includes(r[0])), name, 'size', 'req/s'))
    .join('\n\n');
}
