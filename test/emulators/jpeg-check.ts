/**
 * A test-side baseline JPEG entropy decoder, independent of the emulator's encoder: it reads the
 * file's own quantization and Huffman tables, decodes every block of every component (DC and AC),
 * and reports the colour of each block from its DC term. Enough to prove an image really decodes
 * and is flat; no IDCT, and only unsubsampled (1x1) components.
 */

export interface FlatJpeg {
  width: number;
  height: number;
  blocks: number;
  /** Distinct RGB colours over all blocks (from the DC terms), as `#rrggbb`. */
  colors: string[];
}

interface Huffman {
  /** `${length}:${code}` → symbol */
  codes: Map<string, number>;
}

interface Component {
  id: number;
  qt: number;
  dc?: Huffman;
  ac?: Huffman;
  pred: number;
}

export function decodeFlatJpeg(buf: Buffer): FlatJpeg {
  if (buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error('no SOI');
  const quant = new Map<number, number[]>();
  const tables = new Map<string, Huffman>();
  let width = 0;
  let height = 0;
  let components: Component[] = [];
  let offset = 2;
  for (;;) {
    if (buf[offset] !== 0xff) throw new Error(`expected a marker at ${offset}`);
    const marker = buf[offset + 1];
    const length = buf.readUInt16BE(offset + 2);
    const data = buf.subarray(offset + 4, offset + 2 + length);
    if (marker === 0xdb) {
      for (let p = 0; p < data.length; p += 65) {
        if (data[p] >> 4 !== 0) throw new Error('only 8-bit quantization tables');
        quant.set(data[p] & 15, [...data.subarray(p + 1, p + 65)]);
      }
    } else if (marker === 0xc4) {
      for (let p = 0; p < data.length;) {
        const key = `${data[p] >> 4}:${data[p] & 15}`;
        const counts = [...data.subarray(p + 1, p + 17)];
        const symbols = data.subarray(p + 17, p + 17 + counts.reduce((a, b) => a + b, 0));
        const codes = new Map<string, number>();
        let code = 0;
        let k = 0;
        counts.forEach((count, i) => {
          for (let c = 0; c < count; c++) codes.set(`${i + 1}:${code++}`, symbols[k++]);
          code <<= 1;
        });
        tables.set(key, { codes });
        p += 17 + symbols.length;
      }
    } else if (marker === 0xc0) {
      height = data.readUInt16BE(1);
      width = data.readUInt16BE(3);
      components = [];
      for (let c = 0; c < data[5]; c++) {
        const [id, sampling, qt] = data.subarray(6 + c * 3, 9 + c * 3);
        if (sampling !== 0x11) throw new Error('only 1x1 sampling');
        components.push({ id, qt, pred: 0 });
      }
    } else if (marker >= 0xc1 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new Error('only baseline JPEG');
    } else if (marker === 0xda) {
      for (let c = 0; c < data[0]; c++) {
        const comp = components.find((x) => x.id === data[1 + c * 2]);
        if (!comp) throw new Error('SOS names an unknown component');
        comp.dc = tables.get(`0:${data[2 + c * 2] >> 4}`);
        comp.ac = tables.get(`1:${data[2 + c * 2] & 15}`);
      }
      offset += 2 + length;
      break;
    }
    offset += 2 + length;
  }

  const end = buf.length - 2;
  if (buf[end] !== 0xff || buf[end + 1] !== 0xd9) throw new Error('no EOI');
  const entropy: number[] = [];
  for (let i = offset; i < end; i++) {
    entropy.push(buf[i]);
    if (buf[i] === 0xff) {
      if (buf[i + 1] !== 0x00) throw new Error('unexpected marker in entropy data');
      i++;
    }
  }
  let bitPos = 0;
  const bit = (): number => {
    if (bitPos >= entropy.length * 8) throw new Error('entropy data ran out');
    const b = (entropy[bitPos >> 3] >> (7 - (bitPos & 7))) & 1;
    bitPos++;
    return b;
  };
  const receive = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | bit();
    return n > 0 && v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  };
  const symbol = (table: Huffman | undefined): number => {
    if (!table) throw new Error('missing Huffman table');
    let code = 0;
    for (let len = 1; len <= 16; len++) {
      code = (code << 1) | bit();
      const s = table.codes.get(`${len}:${code}`);
      if (s !== undefined) return s;
    }
    throw new Error('bad Huffman code');
  };

  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const colors = new Set<string>();
  for (let b = 0; b < blocks; b++) {
    const dcs = components.map((comp) => {
      comp.pred += receive(symbol(comp.dc));
      for (let k = 1; k < 64;) {
        const rs = symbol(comp.ac);
        if (rs === 0) break;
        if (rs === 0xf0) k += 16;
        else {
          k += (rs >> 4) + 1;
          receive(rs & 15);
        }
      }
      return (comp.pred * (quant.get(comp.qt)?.[0] ?? NaN)) / 8 + 128;
    });
    colors.add(toRgb(dcs));
  }
  const left = entropy.length * 8 - bitPos;
  if (left >= 8) throw new Error(`${left} bits left over after the last block`);
  for (let i = 0; i < left; i++) if (bit() !== 1) throw new Error('padding bits must be ones');
  return { width, height, blocks, colors: [...colors] };
}

function toRgb([y, cb = 128, cr = 128]: number[]): string {
  const clamp = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
  const rgb = [y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128), y + 1.772 * (cb - 128)].map(clamp);
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}
