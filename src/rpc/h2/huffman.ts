/**
 * HPACK's Huffman code (RFC 7541 §5.2, Appendix B), decoding only: etcdts sends its own header
 * strings raw, but clients (grpc-go, grpc-js, grpc C-core) Huffman-encode theirs.
 *
 * The code is canonical: codes are numbered in order of (length, symbol). So the table below
 * holds only each symbol's code length (bytes 0..255, then EOS = 256 with 30 bits), and the
 * codes are rebuilt from it at load. The lengths were measured through an independent encoder
 * (8 copies of a symbol encode to exactly `length` bytes) and the rebuilt codes are checked
 * against encoded samples in test/unit/rpc/hpack.test.ts.
 *
 * Decoding walks a table of 4-bit steps built from the canonical code (a nibble trie): each
 * state × nibble gives the next state, up to one emitted symbol, and whether the position is a
 * valid end (only EOS-prefix padding of at most 7 bits may end a string, §5.2).
 */
const lengths: number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

export const eosSymbol = 256;

/** codes[sym] as a number (≤ 30 bits), from the canonical numbering. */
export const huffmanCodes: number[] = (() => {
  const syms = lengths.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const codes = new Array<number>(lengths.length).fill(0);
  let code = 0;
  let prevLen = (syms[0] as { len: number }).len;
  for (const { len, sym } of syms) {
    code *= 2 ** (len - prevLen);
    prevLen = len;
    codes[sym] = code;
    code++;
  }
  return codes;
})();

export const huffmanLengths: readonly number[] = lengths;

export class HuffmanError extends Error {}

/**
 * The nibble trie. A state is a node of the code's binary tree (an unfinished prefix); state 0
 * is the root. transitions[state * 16 + nibble] = next state | (symbol + 1) << 16 | flags.
 */
const flagEmit = 1 << 25;
const flagFail = 1 << 26;
const flagAccept = 1 << 27; // after this step, the bits since the last symbol are all ones and < 8
const { transitions, acceptAtState } = (() => {
  // Binary tree: node → [child0, child1]; leaves are symbols (negative: -(sym + 1)).
  const kids: number[][] = [[-0x7fffffff, -0x7fffffff]];
  for (let sym = 0; sym < lengths.length; sym++) {
    const len = lengths[sym] as number;
    const code = huffmanCodes[sym] as number;
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = Math.floor(code / 2 ** b) % 2;
      const here = kids[node] as number[];
      if (b === 0) {
        here[bit] = -(sym + 1);
      } else {
        if ((here[bit] as number) === -0x7fffffff) {
          here[bit] = kids.length;
          kids.push([-0x7fffffff, -0x7fffffff]);
        }
        node = here[bit] as number;
      }
    }
  }
  // depth and all-ones-ness of each node (padding must be a prefix of EOS, i.e. all ones, ≤ 7 bits)
  const depth = new Array<number>(kids.length).fill(0);
  const allOnes = new Array<boolean>(kids.length).fill(false);
  allOnes[0] = true;
  for (let n = 0; n < kids.length; n++) {
    const [c0, c1] = kids[n] as [number, number];
    if (c0 >= 0) {
      depth[c0] = (depth[n] as number) + 1;
      allOnes[c0] = false;
    }
    if (c1 >= 0) {
      depth[c1] = (depth[n] as number) + 1;
      allOnes[c1] = allOnes[n] as boolean;
    }
  }
  const accept = kids.map((_, n) => n === 0 || ((allOnes[n] as boolean) && (depth[n] as number) <= 7));
  const t = new Int32Array(kids.length * 16);
  for (let n = 0; n < kids.length; n++) {
    for (let nib = 0; nib < 16; nib++) {
      let node = n;
      let emit = -1;
      let fail = false;
      for (let b = 3; b >= 0; b--) {
        const bit = (nib >> b) & 1;
        const next = (kids[node] as number[])[bit] as number;
        if (next === -0x7fffffff) {
          fail = true;
          break;
        }
        if (next < 0) {
          const sym = -next - 1;
          if (sym === eosSymbol || emit >= 0) {
            // EOS inside a string is an error; two symbols in one nibble cannot happen (min length 5).
            fail = true;
            break;
          }
          emit = sym;
          node = 0;
        } else {
          node = next;
        }
      }
      let v = node;
      if (fail) v = flagFail;
      else {
        if (emit >= 0) v |= flagEmit | (emit << 16);
        if (accept[node]) v |= flagAccept;
      }
      t[n * 16 + nib] = v;
    }
  }
  return { transitions: t, acceptAtState: accept };
})();
void acceptAtState;

/** Decodes a Huffman-encoded string to latin1 (one char per byte). */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string {
  let state = 0;
  let accept = true;
  let out = '';
  for (let i = start; i < end; i++) {
    const byte = buf[i] as number;
    for (let half = 0; half < 2; half++) {
      const nib = half === 0 ? byte >> 4 : byte & 15;
      const v = transitions[state * 16 + nib] as number;
      if (v & flagFail) throw new HuffmanError('invalid Huffman code');
      if (v & flagEmit) out += String.fromCharCode((v >> 16) & 0x1ff);
      state = v & 0xffff;
      accept = (v & flagAccept) !== 0;
    }
  }
  if (!accept) throw new HuffmanError('invalid Huffman padding');
  return out;
}

/** Encodes latin1 `s` (tests; etcdts sends raw strings). */
export function huffmanEncode(s: string): Buffer {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += lengths[s.charCodeAt(i) & 0xff] as number;
  const out = Buffer.alloc(Math.ceil(bits / 8));
  let acc = 0;
  let n = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = lengths[sym] as number;
    const code = huffmanCodes[sym] as number;
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** b) % 2);
      if (++n === 8) {
        out[o++] = acc;
        acc = 0;
        n = 0;
      }
    }
  }
  if (n > 0) out[o] = (acc << (8 - n)) | ((1 << (8 - n)) - 1);
  return out;
}
