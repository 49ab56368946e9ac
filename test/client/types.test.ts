import fs from 'node:fs';
import { generateTypes, typesFile } from './helpers/codegen';

describe('src/client/types.ts', () => {
  it('equals a fresh generation from the schema and the documents', () => {
    const fresh = generateTypes();
    if (process.env.STIGG_WRITE_TYPES === '1') fs.writeFileSync(typesFile, fresh);
    expect(fs.readFileSync(typesFile, 'utf8')).toBe(fresh);
  });
});
