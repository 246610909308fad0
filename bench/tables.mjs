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

/** Data rows of a TSV (header lines, which start with `peer`, skipped). */
const tsvRows = (text) => text.trim().split('\n').filter((l) => l && !l.startsWith('peer\t')).map((l) => l.split('\t'));

/** dns-peers.sh --out: peer, mode, qps, … */
export function dnsRatios(tsvText) {
  return ratioTable(tsvRows(tsvText).map(([peer, mode, qps]) => [peer, mode, qps]), 'geocdn', 'mode', 'QPS');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * http-peers.sh results: peer, tool, size, req/s, … (wrk rows only), of one or more
 * rounds appended one after another (the k-th row of a peer and size is round k). One table per geocdn edge measured (`edge`: memory tier;
 * `edge-disk`: disk tier only), each beside the peers. With several rounds, figures are
 * medians and each ratio is the median of the ratios measured within a round (a round
 * runs every server back to back, so its ratios share that minute's machine), with the
 * lowest and highest in brackets.
 */
export function httpRatios(tsvText) {
  const all = tsvRows(tsvText).filter((r) => r[1] === 'wrk').map(([peer, , size, rps]) => [peer, size, Number(rps)]);
  const rounds = [];
  const seen = new Map();
  for (const row of all) {
    const k = seen.get(`${row[0]}/${row[1]}`) ?? 0;
    seen.set(`${row[0]}/${row[1]}`, k + 1);
    (rounds[k] ??= []).push(row);
  }
  const ours = ['edge', 'edge-disk'].filter((name) => all.some((r) => r[0] === name));
  const peers = [...new Set(all.map((r) => r[0]))].filter((p) => !ours.includes(p));
  const sizes = [...new Set(all.map((r) => r[1]))];
  const figure = (round, peer, size) => round.find((r) => r[0] === peer && r[1] === size)?.[2] || undefined;
  const cell = (values) => (values.length ? String(Math.round(median(values))) : 'n/a');
  return ours
    .map((name) => {
      const lines = [`| size | ${name} req/s | ` + peers.map((p) => `${p} req/s | ${name}/${p}`).join(' | ') + ' |'];
      lines.push('|' + ' --- |'.repeat(2 + peers.length * 2));
      for (const size of sizes) {
        const mine = rounds.map((r) => figure(r, name, size)).filter((v) => v !== undefined);
        const cells = peers.map((p) => {
          const theirs = rounds.map((r) => figure(r, p, size)).filter((v) => v !== undefined);
          const ratios = rounds
            .map((r) => [figure(r, name, size), figure(r, p, size)])
            .filter(([a, b]) => a !== undefined && b !== undefined)
            .map(([a, b]) => a / b);
          if (!ratios.length) return `${cell(theirs)} | n/a`;
          const spread = ratios.length > 1 ? ` (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : '';
          return `${cell(theirs)} | ${median(ratios).toFixed(2)}×${spread}`;
        });
        lines.push(`| ${size} | ${cell(mine)} | ${cells.join(' | ')} |`);
      }
      return lines.join('\n');
    })
    .join('\n\n');
}
