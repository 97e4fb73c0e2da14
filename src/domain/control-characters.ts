// Control characters (Unicode's Cc: C0, DEL, C1) in what a caller sends. No id, username, name, address or login name
// holds one: new ones are refused (account-text.ts), generated ids are digits and app ids hex. So text that holds one
// names nothing, and is refused where it arrives, before it reaches a database: SQLite would merely find nothing,
// but PostgreSQL cannot even compare a U+0000 (its statement fails, SQLSTATE 22021), and the two answered
// differently, one of them with an internal error.
const controlCharacter = /\p{Cc}/u;

export function holdsControlCharacter(text: string): boolean {
  return controlCharacter.test(text);
}
