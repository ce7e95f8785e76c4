/** `version`: etcdctl's two lines (see command.ts for the version printed). */
import { apiVersion, ctlVersion, type Command } from '../command.js';

export const versionCommand: Command = {
  name: 'version',
  short: 'Prints the version of etcdctl',
  async run(ctx) {
    ctx.out.stdout(`etcdctl version: ${ctlVersion}\nAPI version: ${apiVersion}\n`);
  },
};
