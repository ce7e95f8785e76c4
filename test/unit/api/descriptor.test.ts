/** descriptor.gen.ts is what scripts/gen-descriptor.ts makes from proto/ today (else: npm run gen:descriptor). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { descriptorSource, parseProtoFiles } from '../../../src/api/proto-files.js';
import { repoRoot } from '../../helpers/procs.js';

describe('the generated descriptor', () => {
  it('matches proto/ (run `npm run gen:descriptor` after changing a .proto file)', () => {
    const current = readFileSync(path.join(repoRoot, 'src', 'api', 'descriptor.gen.ts'), 'utf8');
    expect(current).toBe(descriptorSource(parseProtoFiles()));
  });
});
