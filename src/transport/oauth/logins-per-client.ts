// One client's logins may have a few of the password checks' places at once (its share), so that it never fills the
// queue everyone's logins wait in. Its logins beyond the share wait in a line of their own, behind its earlier ones:
// a backend logging several people in at once, or a test suite, is slowed by its own burst and not refused. Only a
// client whose line is full too is refused (429).
export interface LoginsPerClient {
  /** Resolves true once one of `client`'s logins may go on; false at once when its share and its line are full. */
  enter(client: string): Promise<boolean>;
  /** The login that entered is done: its place goes to the next in its client's line. */
  leave(client: string): void;
}

export function createLoginsPerClient(share: number, linePerClient: number): LoginsPerClient {
  const clients = new Map<string, { underWay: number; line: (() => void)[] }>();
  return {
    async enter(client) {
      let entry = clients.get(client);
      if (entry === undefined) {
        entry = { underWay: 0, line: [] };
        clients.set(client, entry);
      }
      if (entry.underWay < share) {
        entry.underWay++;
        return true;
      }
      if (entry.line.length >= linePerClient) return false;
      const { line } = entry;
      await new Promise<void>((goOn) => line.push(goOn));
      return true;
    },
    leave(client) {
      const entry = clients.get(client);
      if (entry === undefined) return;
      const next = entry.line.shift();
      // The place passes from the login that is done to the next in line, so `underWay` stays as it is.
      if (next !== undefined) next();
      else if (--entry.underWay === 0) clients.delete(client);
    },
  };
}
