// App ids look like Kii's: 8 lowercase hex characters. They are public (every Kii URL carries one), so 32 random bits
// only need to make clashes rare; the handler draws again on the rare clash.
import { randomBytes } from "node:crypto";

export function randomApplicationId(): string {
  return randomBytes(4).toString("hex");
}
