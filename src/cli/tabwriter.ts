/**
 * Go's text/tabwriter with padchar '\t' (as etcdctl's help template uses it: minwidth 0,
 * tabwidth 8, padding 1): tab-terminated cells form columns over runs of consecutive lines, each
 * column as wide as its widest cell plus padding rounded up to a tab stop, filled with tabs.
 */
const tabWidth = 8;
const padding = 1;

export function tabwrite(text: string): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  function writeLines(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const cells = lines[i] as string[];
      let s = '';
      cells.forEach((c, j) => {
        s += c;
        if (j < cells.length - 1) {
          const cellw = Math.ceil((widths[j] as number) / tabWidth) * tabWidth;
          s += '\t'.repeat(Math.ceil((cellw - c.length) / tabWidth));
        }
      });
      out.push(s);
    }
  }

  function format(line0: number, line1: number, column: number): void {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i] as string[];
      if (column >= cells.length - 1) continue;
      writeLines(line0, i);
      line0 = i;
      let width = 0;
      for (; i < line1; i++) {
        const cs = lines[i] as string[];
        if (column >= cs.length - 1) break;
        width = Math.max(width, (cs[column] as string).length + padding);
      }
      widths.push(width);
      format(line0, i, column + 1);
      widths.pop();
      line0 = i;
      i--;
    }
    writeLines(line0, line1);
  }

  format(0, lines.length, 0);
  return out.join('\n');
}
