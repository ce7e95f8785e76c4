/**
 * The tables etcdctl prints with olekukonko/tablewriter (member list, endpoint status/health):
 * headers centred, cells right-aligned (etcdctl sets ALIGN_RIGHT), one space of padding, +---+
 * borders, and cells longer than 30 columns wrapped at spaces with tablewriter's
 * minimum-raggedness algorithm.
 */
const wrapWidth = 30;
const wrapPenalty = 1e5;

/** tablewriter's WrapWords (after kr/text): minimise the sum of squared leftover widths. */
function wrapWords(words: string[], lim: number): string[][] {
  const n = words.length;
  const len: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = new Array<number>(n).fill(0);
    row[i] = (words[i] as string).length;
    for (let j = i + 1; j < n; j++) row[j] = (row[j - 1] as number) + 1 + (words[j] as string).length;
    len.push(row);
  }
  const nbrk = new Array<number>(n).fill(0);
  const cost = new Array<number>(n).fill(2 ** 31 - 1);
  for (let i = n - 1; i >= 0; i--) {
    const li = len[i] as number[];
    if ((li[n - 1] as number) <= lim) {
      cost[i] = 0;
      nbrk[i] = n;
    } else {
      for (let j = i + 1; j < n; j++) {
        const d = lim - (li[j - 1] as number);
        let c = d * d + (cost[j] as number);
        if ((li[j - 1] as number) > lim) c += wrapPenalty;
        if (c < (cost[i] as number)) {
          cost[i] = c;
          nbrk[i] = j;
        }
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; i = nbrk[i] as number) lines.push(words.slice(i, nbrk[i]));
  return lines;
}

/** tablewriter's WrapString: split on single spaces, widen the limit to the longest word. */
export function wrapCell(s: string): string[] {
  if (s.length <= wrapWidth) return [s];
  const words = s.replace(/\n/g, ' ').split(' ');
  let lim = wrapWidth;
  for (const w of words) lim = Math.max(lim, w.length);
  return wrapWords(words, lim).map((l) => l.join(' '));
}

export function renderTable(header: string[], rows: string[][]): string {
  const headerLines = header.map(wrapCell);
  const rowLines = rows.map((r) => header.map((_, i) => wrapCell(r[i] ?? '')));
  // tablewriter parseDimension: a cell is min(its width, 30) wide, or its longest wrapped line.
  const cellWidth = (raw: string, lines: string[]): number => Math.max(Math.min(raw.length, wrapWidth), ...lines.map((l) => l.length));
  const widths = header.map((h, i) =>
    Math.max(cellWidth(h, headerLines[i] as string[]), ...rows.map((r, k) => cellWidth(r[i] ?? '', (rowLines[k] as string[][])[i] as string[]))),
  );
  const border = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const centre = (s: string, w: number): string => {
    const gap = w - s.length;
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  };
  const block = (cells: string[][], fmt: (s: string, w: number) => string): string => {
    const height = Math.max(...cells.map((c) => c.length));
    let s = '';
    for (let k = 0; k < height; k++) {
      s += '|' + cells.map((c, i) => ` ${fmt(c[k] ?? '', widths[i] as number)} `).join('|') + '|\n';
    }
    return s;
  };
  let out = border + block(headerLines, centre) + border;
  for (const r of rowLines) out += block(r, (s, w) => s.padStart(w));
  return out + border;
}
