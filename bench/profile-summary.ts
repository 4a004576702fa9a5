// Summarizes a V8 .cpuprofile by self time: the top functions, and the same time grouped by
// where the code lives (a package in node_modules, Node's own internals, the gateway, GC…).
//   node bench/profile-summary.ts bench/out/gateway-nonstream.cpuprofile [top=25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  group: string;
  ms: number;
  share: number;
}

/** Where a script lives: 'axios', '@nestjs/core', 'node:internal', 'gateway', or a V8 pseudo-frame. */
export function groupOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node (internals)';
  if (url.includes('/dist/apps/') || url.includes('/dist/libs/')) return 'gateway (dist/)';
  return url;
}

function shortUrl(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url);
  if (m) return m[1];
  const d = /\/dist\/(.*)$/.exec(url);
  if (d) return d[1];
  return url;
}

/** Self time per function (summed over call sites) and per group, largest first. */
export function selfTimes(profile: CpuProfile): { total: number; functions: SelfTime[]; groups: { group: string; ms: number; share: number }[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const perNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time since the previous sample; it is the duration of sample i-1.
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i + 1] ?? 0;
    perNode.set(samples[i], (perNode.get(samples[i]) ?? 0) + us);
  }
  let total = 0;
  const functions = new Map<string, SelfTime>();
  const groups = new Map<string, number>();
  for (const [id, us] of perNode) {
    const node = byId.get(id);
    if (!node) continue;
    const ms = us / 1000;
    total += ms;
    const frame = node.callFrame;
    const name = frame.functionName || '(anonymous)';
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const group = groupOf(frame);
    const entry = functions.get(key) ?? { name, where, group, ms: 0, share: 0 };
    entry.ms += ms;
    functions.set(key, entry);
    groups.set(group, (groups.get(group) ?? 0) + ms);
  }
  const share = (ms: number): number => (total > 0 ? ms / total : 0);
  return {
    total,
    functions: [...functions.values()].map((f) => ({ ...f, share: share(f.ms) })).sort((a, b) => b.ms - a.ms),
    groups: [...groups.entries()].map(([group, ms]) => ({ group, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
  };
}

/**
 * Inclusive (total) time per function of the gateway's own code (dist/): every sample counts once
 * for each distinct such function on its stack, so recursion is not counted twice.
 */
export function gatewayTotals(profile: CpuProfile): { name: string; where: string; ms: number; share: number }[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const totals = new Map<string, { name: string; where: string; ms: number }>();
  let all = 0;
  for (let i = 0; i < samples.length; i++) {
    const ms = (deltas[i + 1] ?? 0) / 1000;
    all += ms;
    const seen = new Set<string>();
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || groupOf(frame) !== 'gateway (dist/)') continue;
      const name = frame.functionName || '(anonymous)';
      const where = `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      const key = `${name}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = totals.get(key) ?? { name, where, ms: 0 };
      entry.ms += ms;
      totals.set(key, entry);
    }
  }
  return [...totals.values()].map((t) => ({ ...t, share: all > 0 ? t.ms / all : 0 })).sort((a, b) => b.ms - a.ms);
}

/** Markdown: the top `top` functions by self time, self time by group, and the gateway's functions by total time. */
export function profileMarkdown(profile: CpuProfile, top = 25): string {
  const { total, functions, groups } = selfTimes(profile);
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const busy = functions.filter((f) => f.name !== '(idle)').reduce((s, f) => s + f.ms, 0);
  const lines = [
    `Sampled ${total.toFixed(0)} ms, of which ${busy.toFixed(0)} ms not idle (shares below are of all samples).`,
    '',
    '| # | Self | Function | Where | Group |',
    '|---:|---:|---|---|---|',
    ...functions.slice(0, top).map((f, i) => `| ${i + 1} | ${pct(f.share)} | \`${f.name}\` | ${f.where ? `\`${f.where}\`` : ''} | ${f.group} |`),
    '',
    '| Group | Self | ms |',
    '|---|---:|---:|',
    ...groups.slice(0, top).map((g) => `| ${g.group} | ${pct(g.share)} | ${g.ms.toFixed(0)} |`),
    '',
    'The gateway’s own functions by total time (self + callees):',
    '',
    '| # | Total | Function | Where |',
    '|---:|---:|---|---|',
    ...gatewayTotals(profile)
      .slice(0, top)
      .map((f, i) => `| ${i + 1} | ${pct(f.share)} | \`${f.name}\` | \`${f.where}\` |`),
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(profileMarkdown(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25)));
}
