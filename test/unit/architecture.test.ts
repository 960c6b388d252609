/**
 * The layout the README's "How the code is laid out" promises, read from the `import` statements
 * under src/ (a small parser here, no dependency): no import cycle between files; none between
 * folders; the pure parts (the gate, the comment parser, the calendar code) import nothing that
 * does I/O, directly or through what they import; only src/main.ts sees every part.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Import {
  /** `src/...ts` for a file of ours, the package (or `node:` module) name otherwise */
  target: string;
  local: boolean;
  /** erased at compile time: `import type`, `export type`, or only `type` specifiers */
  typeOnly: boolean;
}

type Sources = Map<string, string>;

/** The import and re-export statements of one file, dynamic imports included. */
export function importsOf(file: string, text: string): Import[] {
  // comments hold example code and paths: drop them (strings cannot hold `/*` in this code base's imports)
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const local = spec.startsWith('.');
    const target = local ? relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts') : spec.startsWith('node:') ? spec : spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
    out.push({ target, local, typeOnly });
  };
  const statement = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(statement)) {
    const clause = m[3] ?? '';
    const named = /^\{([\s\S]*)\}$/.exec(clause.trim());
    const specifiers = named ? named[1]!.split(',').map((x) => x.trim()).filter(Boolean) : [];
    const allTypes = specifiers.length > 0 && specifiers.every((x) => x.startsWith('type '));
    add(m[4]!, Boolean(m[2]) || allTypes);
  }
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g)) add(m[1]!, false);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1]!, false);
  return out;
}

/** Strongly connected components of more than one node, or a node importing itself. */
export function cyclesOf(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)?.has(v)) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The pure calendar code. */
const isTime = (f: string) => f.startsWith('src/time/');

/** Which part a file belongs to: its folder under src/ (calendar code is "time"); a top-level file is its own part. */
export function partOf(file: string): string {
  if (isTime(file)) return 'time';
  const rest = file.slice('src/'.length);
  return rest.includes('/') ? `src/${rest.split('/')[0]}/` : file;
}

/** Roots of the pure parts, and what they (and everything they import) may import from outside. */
const isPureRoot = (f: string) => f.startsWith('src/gate/') || f === 'src/commands/parse.ts' || isTime(f);
const PURE_PACKAGES = [/^zod$/, /^yaml$/, /^temporal-polyfill$/, /^mdast-/, /^micromark-/, /^unist-/, /^markdown-it(\/|$)/];
/** Parts that do I/O (SQL, GitHub, HTTP, timers, the process) or hold use cases: a pure file never reaches them. */
const isImpure = (f: string) => /^src\/(store|github|http|domain|schedule)\//.test(f) && !isTime(f);

/**
 * What each part may import (values; type-only imports aside), as the README's table says. Parts
 * not listed (src/main.ts, src/compose.ts, src/cli.ts, src/env.ts, src/clock.ts) are unrestricted.
 */
export const ALLOWED: Record<string, string[]> = {
  'src/gate/': ['src/config/', 'src/util/', 'time'],
  time: [],
  'src/util/': [],
  'src/github/': [],
  'src/store/': [],
  'src/config/': ['src/store/', 'time'],
  'src/domain/': ['src/config/', 'src/gate/', 'src/github/', 'src/store/', 'src/util/', 'time'],
  'src/commands/': ['src/config/', 'src/domain/', 'src/gate/', 'src/github/', 'src/store/', 'src/util/', 'time'],
  'src/schedule/': ['src/domain/', 'src/store/'],
  'src/http/': ['src/commands/', 'src/config/', 'src/domain/', 'src/gate/', 'src/github/', 'src/store/', 'src/util/', 'time', 'src/env.ts'],
  'src/setup/': ['src/github/', 'src/http/', 'src/env.ts'],
  'src/handlers.ts': ['src/commands/', 'src/domain/', 'src/github/'],
  'src/app.ts': ['src/handlers.ts'],
};

export function analyse(sources: Sources) {
  const graph = new Map<string, Import[]>();
  for (const [file, text] of sources) graph.set(file, importsOf(file, text));
  const fileEdges = new Map<string, Set<string>>();
  const partEdges = new Map<string, Set<string>>();
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    fileEdges.set(file, new Set());
    for (const i of imports.filter((x) => x.local)) {
      if (!sources.has(i.target)) problems.push(`${file} imports ${i.target}, which does not exist`);
      fileEdges.get(file)!.add(i.target);
      // a type-only import is erased at compile time: a part may share another's types without depending on it
      if (i.typeOnly || partOf(i.target) === partOf(file)) continue;
      const from = partOf(file);
      if (!partEdges.has(from)) partEdges.set(from, new Set());
      partEdges.get(from)!.add(partOf(i.target));
    }
  }
  // the pure closure: everything a pure root imports (values), transitively
  const impureImports: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string, via: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (isImpure(file) || !file.startsWith('src/') || ['src/main.ts', 'src/compose.ts', 'src/app.ts', 'src/handlers.ts', 'src/cli.ts', 'src/env.ts'].includes(file)) {
      impureImports.push(`${via.join(' -> ')} -> ${file}`);
      return;
    }
    for (const i of graph.get(file) ?? []) {
      if (i.typeOnly) continue;
      if (i.local) walk(i.target, [...via, file]);
      else if (!PURE_PACKAGES.some((p) => p.test(i.target))) impureImports.push(`${[...via, file].join(' -> ')} -> ${i.target}`);
    }
  };
  for (const file of sources.keys()) if (isPureRoot(file)) walk(file, []);
  const composeImporters = [...graph].filter(([f, imports]) => f !== 'src/main.ts' && imports.some((i) => i.target === 'src/compose.ts')).map(([f]) => f);
  const disallowed: string[] = [];
  for (const [from, tos] of partEdges) {
    const allowed = ALLOWED[from];
    if (allowed) for (const to of tos) if (!allowed.includes(to)) disallowed.push(`${from} -> ${to}`);
  }
  return { fileCycles: cyclesOf(fileEdges), partCycles: cyclesOf(partEdges), impureImports, composeImporters, disallowed: disallowed.sort(), problems, files: graph.size };
}

function readSources(): Sources {
  const out: Sources = new Map();
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) out.set(path, readFileSync(join(ROOT, path), 'utf8'));
    }
  };
  walk('src');
  return out;
}

/**
 * Files that read the clock themselves (Date.now(), new Date() with no argument, performance.now(),
 * process.hrtime): only src/clock.ts may, whose systemClock the composition root hands to the rest.
 * Timers (setTimeout) are not clock reads. Comments are not looked at.
 */
export function clockReaders(sources: Sources): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    if (file === 'src/clock.ts') continue;
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    const m = /\bDate\.now\(|\bnew Date\(\s*\)|\bperformance\.now\(|\bprocess\.hrtime\b/.exec(code);
    if (m) out.push(`${file}: ${m[0]}`);
  }
  return out;
}

describe('the layout of src/', () => {
  const sources = readSources();
  const result = analyse(sources);

  it('reads the clock only in src/clock.ts: every other part is given a Clock by the composition root', () => {
    expect(clockReaders(sources)).toEqual([]);
  });

  it('reads every file and every import resolves to a file', () => {
    expect(result.files).toBeGreaterThan(40);
    expect(result.problems).toEqual([]);
  });

  it('has no import cycle between files (type imports included)', () => {
    expect(result.fileCycles).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(result.partCycles).toEqual([]);
  });

  it('keeps the gate, the comment parser and the calendar code free of I/O, through everything they import', () => {
    expect(result.impureImports).toEqual([]);
  });

  it("imports between folders only what the README's table allows", () => {
    expect(result.disallowed).toEqual([]);
  });

  it('lets only src/main.ts see every part (src/compose.ts)', () => {
    expect(result.composeImporters).toEqual([]);
  });
});

describe('the layout checker itself', () => {
  const src = (files: Record<string, string>): Sources => new Map(Object.entries(files));

  it('finds a file cycle, also through type imports and re-exports', () => {
    const r = analyse(src({
      'src/domain/a.ts': "import type { B } from './b.js';",
      'src/domain/b.ts': "export { a } from './a.js';",
      'src/domain/c.ts': "import { a } from './a.js';",
    }));
    expect(r.fileCycles).toEqual([['src/domain/a.ts', 'src/domain/b.ts']]);
  });

  it('finds a folder cycle made of value imports, and ignores one made only of types', () => {
    const values = analyse(src({
      'src/domain/a.ts': "import {\n  x,\n} from '../schedule/t.js';",
      'src/schedule/t.ts': "import { y } from '../domain/b.js';\nexport const x = 1;",
      'src/domain/b.ts': 'export const y = 2;',
    }));
    expect(values.fileCycles).toEqual([]);
    expect(values.partCycles).toEqual([['src/domain/', 'src/schedule/']]);
    expect(values.disallowed).toEqual(['src/domain/ -> src/schedule/']);
    const types = analyse(src({
      'src/domain/a.ts': "import { type X } from '../schedule/t.js';",
      'src/schedule/t.ts': "import { y } from '../domain/b.js';\nexport type X = 1;",
      'src/domain/b.ts': 'export const y = 2;',
    }));
    expect(types.partCycles).toEqual([]);
  });

  it('finds I/O reached from the gate, directly or through another file, and allows pure packages and type imports', () => {
    const r = analyse(src({
      'src/gate/a.ts': "import { z } from 'zod';\nimport type { Logger } from 'pino';\nimport { b } from '../util/b.js';",
      'src/util/b.ts': "import { readFileSync } from 'node:fs';",
      'src/commands/parse.ts': "import { key } from '../store/store.js';",
      'src/store/store.ts': "import Database from 'better-sqlite3';",
      'src/time/zone.ts': "const m = await import('node:http');",
    }));
    expect(r.impureImports.sort()).toEqual([
      'src/commands/parse.ts -> src/store/store.ts',
      'src/gate/a.ts -> src/util/b.ts -> node:fs',
      'src/time/zone.ts -> node:http',
    ]);
  });

  it('finds a file that reads the clock itself, and not a comment, a timer or a given date', () => {
    const files = new Map([
      ['src/domain/a.ts', 'export const f = () => Date.now() - 1;'],
      ['src/http/b.ts', 'export const g = () => new Date( );'],
      ['src/gate/c.ts', '// Date.now() is not read here\n/* nor performance.now() */\nexport const h = (t: number) => new Date(t);\nsetTimeout(() => {}, 5);'],
      ['src/clock.ts', 'export const systemClock = { now: () => Date.now() };'],
    ]);
    expect(clockReaders(files)).toEqual(['src/domain/a.ts: Date.now(', 'src/http/b.ts: new Date( )']);
  });

  it('reports a file importing the composition root other than main.ts', () => {
    const r = analyse(src({ 'src/compose.ts': '', 'src/main.ts': "import { composeApp } from './compose.js';", 'src/http/x.ts': "import { composeApp } from '../compose.js';" }));
    expect(r.composeImporters).toEqual(['src/http/x.ts']);
  });
});
