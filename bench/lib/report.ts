/** Figures, tables and the JSON the benchmark writes. */
import { readFileSync } from 'node:fs';

export interface Row {
  metric: string;
  moratorium: string;
  /** empty when the metric has no baseline */
  baseline: string;
  /** "0.52x (≤0.6x)" or "≤ 1 ms" */
  target: string;
  /** null: informational, no target */
  pass: boolean | null;
}

export interface SectionResult {
  id: string;
  title: string;
  rows: Row[];
  notes: string[];
  /** every raw figure, for bench/results.json */
  data: Record<string, unknown>;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export function fmt(x: number, unit = '', digits = 2): string {
  if (!Number.isFinite(x)) return 'n/a';
  const abs = Math.abs(x);
  const d = abs >= 100 ? 0 : abs >= 10 ? 1 : digits;
  return `${x.toFixed(d)}${unit ? ` ${unit}` : ''}`;
}

export function ratio(a: number, b: number): number {
  return b === 0 ? (a === 0 ? 1 : Infinity) : a / b;
}

/** A row comparing Moratorium with the baseline: pass when moratorium/baseline <= max. */
export function vsBaseline(metric: string, m: number, b: number, unit: string, max: number): Row {
  const r = ratio(m, b);
  return { metric, moratorium: fmt(m, unit), baseline: fmt(b, unit), target: `${r.toFixed(2)}x (≤${max}x)`, pass: r <= max };
}

/** Peak resident set size (VmHWM) of a process, in MiB; NaN when /proc cannot tell. */
export function peakRssMiB(pid: number | null | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms; NaN when /proc cannot tell. Linux clock ticks are 10 ms. */
export function cpuMs(pid: number | null | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3): utime and stime are fields 14 and 15
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

export function renderTable(s: SectionResult): string {
  const head = ['metric', 'moratorium', 'baseline', 'ratio/target', 'pass/miss'];
  const body = s.rows.map((r) => [r.metric, r.moratorium, r.baseline || '-', r.target || '-', r.pass === null ? '-' : r.pass ? 'pass' : 'MISS']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [`## ${s.title}`, '', line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
  if (s.notes.length) out.push('', ...s.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Progress on stderr, so the table on stdout stays clean. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
