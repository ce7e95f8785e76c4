// Runs in every test file (vitest setupFiles): after the file's own afterAll hooks have stopped
// its processes, remove the temp dirs it made through test/helpers/procs.ts tempDir.
import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/procs.js';

afterAll(() => removeTempDirs());
