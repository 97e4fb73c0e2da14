// undici reports "fetch failed" and puts what happened (ECONNREFUSED, a TLS error) in the cause.
export function fetchFailureReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
