/** Small shared pieces: confirm dialog, notices, sparkline, intervals. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';

// --- confirm -------------------------------------------------------------------------------

interface ConfirmRequest {
  title: string;
  body: ComponentChildren;
  action: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

let showConfirm: ((r: ConfirmRequest) => void) | null = null;

/** Asks before a destructive or disruptive action; resolves true only on the action button. */
export function askConfirm(o: { title: string; body: ComponentChildren; action: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    if (showConfirm === null) return resolve(false);
    showConfirm({ ...o, danger: o.danger ?? true, resolve });
  });
}

/** The one <dialog> the confirms use (modal: focus stays in it, Escape cancels). */
export function ConfirmHost() {
  const [req, setReq] = useState<ConfirmRequest | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    showConfirm = setReq;
    return () => {
      showConfirm = null;
    };
  }, []);
  useEffect(() => {
    const d = ref.current;
    if (d === null) return;
    if (req !== null && !d.open) d.showModal();
    if (req === null && d.open) d.close();
  }, [req]);
  const done = (ok: boolean): void => {
    req?.resolve(ok);
    setReq(null);
  };
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={(e) => (e.preventDefault(), done(false))}>
      {req && (
        <form method="dialog" onSubmit={(e) => (e.preventDefault(), done(true))}>
          <h2 id="confirm-title">{req.title}</h2>
          <div class="confirm-body">{req.body}</div>
          <div class="row end">
            <button type="button" onClick={() => done(false)} autofocus>
              Cancel
            </button>
            <button type="submit" class={req.danger ? 'danger' : 'primary'}>
              {req.action}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}

// --- notices -------------------------------------------------------------------------------

export interface Notice {
  id: number;
  text: string;
  error: boolean;
}

let pushNotice: ((n: Notice) => void) | null = null;
let noticeSeq = 0;

export function notify(text: string, error = false): void {
  pushNotice?.({ id: ++noticeSeq, text, error });
}

export function NoticeHost() {
  const [list, setList] = useState<Notice[]>([]);
  useEffect(() => {
    pushNotice = (n) => {
      setList((l) => [...l.slice(-3), n]);
      setTimeout(() => setList((l) => l.filter((x) => x.id !== n.id)), n.error ? 8000 : 4000);
    };
    return () => {
      pushNotice = null;
    };
  }, []);
  return (
    <div class="notices" role="status" aria-live="polite">
      {list.map((n) => (
        <div key={n.id} class={n.error ? 'notice error' : 'notice'}>
          {n.text}
        </div>
      ))}
    </div>
  );
}

// --- hooks ---------------------------------------------------------------------------------

/** Calls fn now and every ms while mounted (and the tab is visible); fn may be async. */
export function usePoll(fn: () => unknown, ms: number, deps: unknown[] = []): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      if (!live) return;
      if (document.visibilityState !== 'hidden') {
        try {
          await saved.current();
        } catch {
          /* the view shows its own errors */
        }
      }
      if (live) timer = setTimeout(() => void tick(), ms);
    };
    void tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, ...deps]);
}

/** Re-renders every ms (countdowns). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

// --- sparkline -----------------------------------------------------------------------------

/** A small line chart of the last values (NaN = gap), scaled to its own maximum. */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const w = 240;
  const h = 48;
  const finite = values.filter((v) => Number.isFinite(v));
  const max = Math.max(1e-9, ...finite);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      pen = false;
      return;
    }
    const x = (i * step).toFixed(1);
    const y = (h - 2 - (v / max) * (h - 4)).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x},${y}`;
    pen = true;
  });
  return (
    <svg class="spark" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={label}>
      <path d={d} />
    </svg>
  );
}
