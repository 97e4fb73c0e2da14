// Tokens carry 256 random bits, so a plain SHA-256 suffices to store them: no guessing or dictionary can reverse it,
// and unlike a slow password hash it costs nothing on every authenticated call.
import { hash, randomBytes } from "node:crypto";
import type { IssuedAccessToken } from "../domain/credentials/access-token.js";

const tokenBytes = 32;

export function issueAccessToken(): IssuedAccessToken {
  const token = randomBytes(tokenBytes).toString("base64url");
  return { token, tokenHash: hashAccessToken(token) };
}

export function hashAccessToken(token: string): string {
  // One-shot: a Hash object per call cost twice as much, on every authenticated call.
  return hash("sha256", token, "hex");
}
