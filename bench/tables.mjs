// Ratio tables from the peer scripts' TSV output, shared by each bench and by run.mjs.

const tsvRows = (text) => text.trim().split('\n').filter((l) => l && !l.startsWith('peer\t')).map((l) => l.split('\t'));

/** dns-peers.sh --out: peer, mode, qps, … */
export function dnsRatios(tsvText) {
  return ratioTable(tsvRows(tsvText).map(([peer, mode, qps]) => [peer, mode, Number(qps)]), ['geocdn'], 'mode', 'QPS');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** http-peers.sh results (wrk rows; rounds appended): one table per geocdn edge measured (`edge`: memory tier; `edge-disk`: disk tier only). */
export function httpRatios(tsvText) {
  const wrkRows = tsvRows(tsvText).filter((r) => r[1] === 'wrk');
  const rows = wrkRows.map(([peer, , size, rps]) => [peer, size, Number(rps)]);
  return ratioTable(rows, ['edge', 'edge-disk'], 'size', 'req/s') + clientBoundNote(wrkRows);
}

/** Sizes where wrk's own core was (nearly) full in most runs: there the ratio measures the load generator more than the servers. */
function clientBoundNote(wrkRows) {
  const CLIENT_FULL = 95;
  const sizes = [...new Set(wrkRows.map((r) => r[2]))].filter((size) => {
    const cpu = wrkRows.filter((r) => r[2] === size).map((r) => Number(r[9])).filter(Number.isFinite);
    return cpu.length > 0 && cpu.filter((c) => c >= CLIENT_FULL).length * 2 > cpu.length;
  });
  if (!sizes.length) return '';
  return `\n\nAt ${sizes.join(', ')} the load generator's core was at ≥ ${CLIENT_FULL} % in most runs (cliCPU): those ratios measure wrk as much as the servers.`;
}

/**
 * Markdown tables, one per name of `ours` that has figures: its figure per case (a DNS
 * mode, an object size) beside each peer's, and the ratio. `rows` are [peer, case,
 * figure] of one or more rounds appended one after another (the k-th row of a peer and
 * case is round k). With several rounds, figures are medians and each ratio is the
 * median of the ratios measured within a round (a round runs every server back to
 * back, so its ratios share that minute's machine), with the lowest and highest in brackets.
 */
function ratioTable(rows, ours, caseTitle, unit) {
  const rounds = [];
  const seen = new Map();
  for (const row of rows) {
    const k = seen.get(`${row[0]}/${row[1]}`) ?? 0;
    seen.set(`${row[0]}/${row[1]}`, k + 1);
    (rounds[k] ??= []).push(row);
  }
  const measured = ours.filter((name) => rows.some((r) => r[0] === name));
  const peers = [...new Set(rows.map((r) => r[0]))].filter((p) => !ours.includes(p));
  const cases = [...new Set(rows.map((r) => r[1]))];
  const figure = (round, peer, c) => round.find((r) => r[0] === peer && r[1] === c)?.[2] || undefined;
  const cell = (values) => (values.length ? String(Math.round(median(values))) : 'n/a');
  return measured
    .map((name) => {
      const lines = [`| ${[`${caseTitle}`, `${name} ${unit}`, ...peers.map((p) => `${p} ${unit} | ${name}/${p}`)].join(' | ')} |`];
      lines.push('|' + ' --- |'.repeat(2 + peers.length * 2));
      for (const c of cases) {
        const mine = rounds.map((r) => figure(r, name, c)).filter((v) => v !== undefined);
        const cells = peers.map((p) => {
          const theirs = rounds.map((r) => figure(r, p, c)).filter((v) => v !== undefined);
          const ratios = rounds
            .map((r) => [figure(r, name, c), figure(r, p, c)])
            .filter(([x, y]) => x !== undefined && y !== undefined)
            .map(([x, y]) => x / y);
          if (!ratios.length) return `${cell(theirs)} | n/a`;
          const spread = ratios.length > 1 ? ` (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : '';
          return `${cell(theirs)} | ${median(ratios).toFixed(2)}×${spread}`;
        });
        lines.push(`| ${[c, cell(mine), ...cells].join(' | ')} |`);
      }
      return lines.join('\n');
    })
    .join('\n\n');
}
