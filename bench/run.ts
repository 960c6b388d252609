/**
 * `npm run bench`: Moratorium's benchmarks. Prints one table per section (targets beside the
 * figures) and writes every figure to bench/results.json. Everything runs on 127.0.0.1 against the
 * fake GitHub API of test/fake-github, bounded in count and time (about ten minutes on two cores).
 *
 *   npm run bench                 every section
 *   npm run bench -- --only=1,4   some sections (1 event mix, 2 many organisations, 3 fan-out, 4 core and store, 5 hostile bodies, 6 gate API, 7 several replicas)
 *
 * Not part of `npm test`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { eventMix } from './sections/event-mix.js';
import { manyOrgs } from './sections/many-orgs.js';
import { fanOut } from './sections/fanout.js';
import { core } from './sections/core.js';
import { bodies } from './sections/bodies.js';
import { gateApi } from './sections/gate-api.js';
import { replicas } from './sections/replicas.js';
import { progress, renderTable, type SectionResult } from './lib/report.js';
import buildOnce from '../test/global-setup.js';

const SECTIONS: Record<string, () => Promise<SectionResult>> = { '1': eventMix, '2': manyOrgs, '3': fanOut, '4': core, '5': bodies, '6': gateApi, '7': replicas };

async function main(): Promise<void> {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',') ?? Object.keys(SECTIONS);
  const started = Date.now();
  // Moratorium is started with `npm start` (dist/): build it from the sources as they are
  progress('building dist/ (npm run build, incremental)');
  buildOnce();
  const results: SectionResult[] = [];
  for (const id of only) {
    const section = SECTIONS[id.trim()];
    if (!section) throw new Error(`unknown section ${id} (1-7)`);
    const t = Date.now();
    const result = await section();
    result.data.durationMs = Date.now() - t;
    results.push(result);
    progress(`section ${id} done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    console.log(`\n${renderTable(result)}\n`);
  }
  const misses = results.flatMap((s) => s.rows.filter((r) => r.pass === false).map((r) => `${s.title.split(' (')[0]}: ${r.metric.trim()}`));
  console.log(misses.length ? `Targets missed: ${misses.length}\n${misses.map((m) => `- ${m}`).join('\n')}` : 'Every target met.');
  const out = fileURLToPath(new URL('./results.json', import.meta.url));
  // with --only, the other sections' last figures are kept
  let sections: SectionResult[] = results;
  if (process.argv.some((a) => a.startsWith('--only=')) && existsSync(out)) {
    try {
      const previous = (JSON.parse(readFileSync(out, 'utf8')) as { sections?: SectionResult[] }).sections ?? [];
      sections = [...previous.filter((p) => !results.some((r) => r.id === p.id)), ...results].sort((a, b) => a.title.localeCompare(b.title));
    } catch {
      // unreadable: start again
    }
  }
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? null,
        durationMs: Date.now() - started,
        sections,
      },
      null,
      2,
    )}\n`,
  );
  progress(`results written to ${out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
