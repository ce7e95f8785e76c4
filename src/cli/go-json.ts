/**
 * etcdctl's `-w json` and `-w protobuf` of a response message (go-json-impl.ts), loaded on
 * demand: the implementation walks protobufjs's descriptors, and loading protobufjs was most of
 * ctl's cold start (issue 13). main.ts calls loadGoJson() before running a command whose output
 * format is json or protobuf; the printers then call goJson/goProtobuf synchronously.
 */
type Impl = typeof import('./go-json-impl.js');
type Obj = Record<string, unknown>;

let impl: Impl | null = null;

export async function loadGoJson(): Promise<void> {
  impl ??= await import('./go-json-impl.js');
}

function loaded(): Impl {
  if (impl === null) throw new Error('go-json-impl.ts is not loaded: call loadGoJson() first');
  return impl;
}

/** JSON text (binary string) of a wire message (proto-loader object) of the given type. */
export function goJson(typeName: string, obj: Obj): string {
  return loaded().goJson(typeName, obj);
}

/** `-w protobuf`: the marshalled message as a binary string. */
export function goProtobuf(typeName: string, obj: Obj): string {
  return loaded().goProtobuf(typeName, obj);
}
