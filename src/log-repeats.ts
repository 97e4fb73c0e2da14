// A flood of one thing told in a few log lines: a client refused a thousand times a second must not write a thousand
// lines a second (the disk, the log shipper and whoever reads them pay for each). The first occurrence of a key is
// told at once; its repeats are counted and told in one line at the end of the interval, so a flood is about one
// line per interval per key, and a single occurrence is told as it happens. One timer for all keys: an occurrence
// costs a map entry, not a timer of its own.

export interface RepeatOptions {
  intervalMs: number;
  /**
   * Keys counted at once, at most: a flood of distinct keys must not grow the map without bound. An occurrence of a
   * new key while this many are counted goes to `overflow` instead of being told.
   */
  maxKeys: number;
  overflow?: () => void;
}

/**
 * `tell(payload, occurrences)`: a line for the first occurrence of its key (occurrences 1), or for the repeats
 * counted since the key's last line (the payload of the latest of them).
 */
export function coalesceRepeats<P>(tell: (payload: P, occurrences: number) => void, options: RepeatOptions): (key: string, payload: P) => void {
  // A key stays while it repeats; `latest` is kept only once there is a repeat to tell.
  const counted = new Map<string, { untold: number; latest: P | undefined }>();
  let timer: NodeJS.Timeout | undefined;

  const endInterval = () => {
    for (const [key, entry] of counted) {
      if (entry.untold === 0) {
        counted.delete(key);
        continue;
      }
      tell(entry.latest as P, entry.untold);
      entry.untold = 0;
      entry.latest = undefined;
    }
    timer = counted.size > 0 ? startInterval() : undefined;
  };
  // Unref'd: an interval's wait to tell of repeats must not keep a stopping process alive.
  const startInterval = () => setTimeout(endInterval, options.intervalMs).unref();

  return (key, payload) => {
    const entry = counted.get(key);
    if (entry) {
      entry.untold += 1;
      entry.latest = payload;
    } else if (counted.size >= options.maxKeys) {
      options.overflow?.();
    } else {
      tell(payload, 1);
      counted.set(key, { untold: 0, latest: undefined });
      timer ??= startInterval();
    }
  };
}
