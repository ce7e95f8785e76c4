/**
 * Writes src/api/descriptor.gen.ts: etcd's wire contract from proto/ as a protobufjs JSON
 * descriptor, so nothing parses .proto text at run time (ctl's cold start; issue 13).
 * test/unit/api/descriptor.test.ts fails when the file is stale.
 *
 * Usage: node --import tsx scripts/gen-descriptor.ts   (npm run gen:descriptor)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { descriptorSource, parseProtoFiles } from '../src/api/proto-files.js';

const out = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'src', 'api', 'descriptor.gen.ts');
writeFileSync(out, descriptorSource(parseProtoFiles()));
console.log(`wrote ${out}`);
