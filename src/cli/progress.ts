/**
 * A one-line progress bar for long ctl work (snapshot save), redrawn in place with `\r` on a
 * terminal at most every `redrawMs`; off a terminal it prints nothing, so scripted output stays
 * exactly etcdctl's.
 */
import { humanizeBytes } from './go-format.js';

export const redrawMs = 100;
const barWidth = 30;

export class ProgressBar {
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly enabled: boolean,
    private readonly label: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The line for `done` of `total` bytes (total 0: unknown yet). */
  static line(label: string, done: number, total: number): string {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.floor(frac * barWidth);
    const bar = '='.repeat(filled) + (filled < barWidth ? '>' : '') + ' '.repeat(Math.max(0, barWidth - filled - 1));
    return `${label} [${bar}] ${Math.floor(frac * 100)}% ${humanizeBytes(done)} / ${humanizeBytes(total)}`;
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const t = this.now();
    if (t - this.lastDraw < redrawMs && done < total) return;
    this.lastDraw = t;
    this.drawn = true;
    this.write(`\r${ProgressBar.line(this.label, done, total)}\x1b[K`);
  }

  /** Ends the bar's line (if one was drawn). */
  finish(): void {
    if (this.enabled && this.drawn) this.write('\n');
  }
}
