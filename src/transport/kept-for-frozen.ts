// What the transport derives from an error for the wire (its gRPC status, its Connect and REST bodies) is kept for a
// frozen one: the refusals the API layer shares across their repeats (api/connect-errors.ts), which cannot change. Any
// other error may still change, and is derived anew each time.
import type { ConnectError } from "@connectrpc/connect";

export function keptForFrozen<T>(derive: (error: ConnectError) => T): (error: ConnectError) => T {
  const kept = new WeakMap<ConnectError, T>();
  return (error) => {
    if (!Object.isFrozen(error)) return derive(error);
    let value = kept.get(error);
    if (value === undefined) {
      value = derive(error);
      kept.set(error, value);
    }
    return value;
  };
}
