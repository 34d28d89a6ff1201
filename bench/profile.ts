import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

/** The parts of a V8 .cpuprofile (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
}

export interface ProfileSummary {
  file: string;
  /** Share of samples in which the process was busy (not idle). */
  busy: number;
  /** Self time by area (package, server folder, node internals, GC), as a share of busy samples. */
  areas: { area: string; share: number }[];
  /** Self time by function, as a share of busy samples. */
  top: { frame: string; share: number }[];
}

const REPO = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

function shortUrl(url: string): string {
  if (!url) return '';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  return p.startsWith(REPO) ? path.relative(REPO, p) : p;
}

function areaOf(functionName: string, url: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const s = shortUrl(url);
  if (url.includes('node_modules/')) {
    const parts = s.split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? s);
  }
  if (s.startsWith('node:')) return s.split('/').slice(0, 2).join('/');
  const parts = s.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? s);
}

/** Reads one .cpuprofile and ranks where the time went (self time, idle left out). */
export function summariseProfile(file: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byFrame = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits) continue;
    total += hits;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += hits;
      continue;
    }
    const frame = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
    const area = areaOf(functionName, url);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const busy = Math.max(1, total - idle);
  const rank = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => [k, round(v / busy, 3)] as const);
  return {
    file,
    busy: round(busy / Math.max(1, total), 3),
    areas: rank(byArea, 12).map(([area, share]) => ({ area, share })),
    top: rank(byFrame, topN).map(([frame, share]) => ({ frame, share })),
  };
}

export function formatProfile(p: ProfileSummary): string[] {
  const pc = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  return [
    `  profile ${p.file} (busy ${pc(p.busy)} of samples)`,
    '  by area:',
    ...p.areas.map((a) => `    ${pc(a.share)}  ${a.area}`),
    '  top frames (self time):',
    ...p.top.map((t) => `    ${pc(t.share)}  ${t.frame}`),
  ];
}
