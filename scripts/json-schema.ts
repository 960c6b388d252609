/**
 * Writes schema/moratorium.schema.json from the zod config schema, for editors
 * (`# yaml-language-server: $schema=...` at the top of .github/moratorium.yml). `npm run schema`.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.js';

const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
const out = {
  ...schema,
  $id: 'https://github.com/moratorium/moratorium/schema/moratorium.schema.json',
  title: 'Moratorium configuration (.github/moratorium.yml)',
};
const path = new URL('../schema/moratorium.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
