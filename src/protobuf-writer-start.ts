// protobuf-es's BinaryWriter (behind every toBinary: each RPC answer, each error's status details) starts a message in a
// new Uint8Array of 128 bytes and doubles it as it grows. V8 keeps a typed array of at most 64 bytes in its heap, but
// gives a larger one a backing store of its own (a malloc, a free, and tracking by the garbage collector), which made
// that first array most of what encoding a small message cost: 3.4-3.7 µs per toBinary of a VerifyPhone answer (38
// bytes), against 0.4 µs when the writer starts in 64 bytes (a microbenchmark; README, performance, step 25). So a
// writer's first buffer is 64 bytes when that holds what it writes first; a message that outgrows it doubles from there,
// as before. Only the first capacity changes: what a writer writes, and how it grows, are protobuf-es's own.
import { BinaryWriter } from "@bufbuild/protobuf/wire";

/** The largest typed array V8 keeps in its own heap (its typed_array_max_size_in_heap, which Node 20 does not expose). */
const inHeapBytes = 64;

// The two fields of BinaryWriter that its ensureCapacity reads, private in its type declarations.
interface WriterInternals {
  buffer: Uint8Array;
  pos: number;
  ensureCapacity(size: number): void;
}

let started = false;

export function startProtobufWritersInHeap(): void {
  if (started) return;
  started = true;
  const writer = BinaryWriter.prototype as unknown as WriterInternals;
  const grow = writer.ensureCapacity;
  writer.ensureCapacity = function (this: WriterInternals, size: number) {
    if (this.buffer.length === 0 && this.pos + size <= inHeapBytes) this.buffer = new Uint8Array(inHeapBytes);
    else grow.call(this, size);
  };
}
