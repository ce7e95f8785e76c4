/** NewPrinter: the printer for a --write-out value (null when etcdctl has none). */
import { FieldsPrinter } from './fields.js';
import { JsonPrinter } from './json.js';
import type { Printer } from './printer.js';
import { ProtobufPrinter } from './protobuf.js';
import { SimplePrinter } from './simple.js';
import { TablePrinter } from './table.js';

export function newPrinter(format: string, isHex: boolean): Printer | null {
  switch (format) {
    case 'simple':
      return new SimplePrinter(isHex);
    case 'json':
      return new JsonPrinter();
    case 'fields':
      return new FieldsPrinter();
    case 'protobuf':
      return new ProtobufPrinter();
    case 'table':
      return new TablePrinter();
    default:
      return null;
  }
}

export { SimplePrinter, FieldsPrinter, JsonPrinter, ProtobufPrinter, TablePrinter };
export type { Printer, EndpointHealth, EndpointStatus } from './printer.js';
