/**
 * The tables etcdctl prints with olekukonko/tablewriter: headers upper-case and centred, cells
 * right-aligned, one space of padding, +---+ borders.
 */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const centre = (s: string, w: number): string => {
    const pad = w - s.length;
    const left = Math.floor(pad / 2);
    return ' '.repeat(left) + s + ' '.repeat(pad - left);
  };
  const out = [line, '|' + header.map((h, i) => ` ${centre(h, widths[i] as number)} `).join('|') + '|', line];
  for (const r of rows) out.push('|' + r.map((c, i) => ` ${c.padStart(widths[i] as number)} `).join('|') + '|');
  out.push(line);
  return out.join('\n') + '\n';
}
