// Ratio tables from the peer scripts' TSV output, shared by each bench and by run.mjs.

/** Markdown table: geocdn's QPS per mode, and its ratio to each peer measured in the same run. */
export function dnsRatios(tsvText) {
  const rows = tsvText.trim().split('\n').slice(1).map((l) => l.split('\t'));
  const qps = new Map(rows.map(([peer, mode, q]) => [`${peer}/${mode}`, Number(q)]));
  const modes = [...new Set(rows.map((r) => r[1]))];
  const peers = [...new Set(rows.map((r) => r[0]))].filter((p) => p !== 'geocdn');
  const lines = ['| mode | geocdn QPS | ' + peers.map((p) => `${p} QPS | geocdn/${p}`).join(' | ') + ' |'];
  lines.push('|' + ' --- |'.repeat(2 + peers.length * 2));
  for (const m of modes) {
    const g = qps.get(`geocdn/${m}`);
    const cells = peers.map((p) => {
      const v = qps.get(`${p}/${m}`);
      return `${v || 'n/a'} | ${g && v ? (g / v).toFixed(2) + '×' : 'n/a'}`;
    });
    lines.push(`| ${m} | ${g || 'n/a'} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Markdown table: the edge's HIT req/s per size, and its ratio to each peer measured in the same run. */
export function httpRatios(tsvText) {
  const rows = tsvText.trim().split('\n').slice(1).map((l) => l.split('\t')).filter((r) => r[1] === 'wrk');
  const rps = new Map(rows.map(([peer, , size, q]) => [`${peer}/${size}`, Number(q)]));
  const sizes = [...new Set(rows.map((r) => r[2]))];
  const peers = [...new Set(rows.map((r) => r[0]))].filter((p) => p !== 'edge');
  const lines = ['| size | edge req/s | ' + peers.map((p) => `${p} req/s | edge/${p}`).join(' | ') + ' |'];
  lines.push('|' + ' --- |'.repeat(2 + peers.length * 2));
  for (const s of sizes) {
    const e = rps.get(`edge/${s}`);
    const cells = peers.map((p) => {
      const v = rps.get(`${p}/${s}`);
      return `${v || 'n/a'} | ${e && v ? (e / v).toFixed(2) + '×' : 'n/a'}`;
    });
    lines.push(`| ${s} | ${e || 'n/a'} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
