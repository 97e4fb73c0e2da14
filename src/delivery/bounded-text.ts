// A provider's error answer, read only as far as a refusal's description needs: a broken proxy or a hostile endpoint
// in its place could send an answer without end, which the whole delivery timeout would be spent reading and the
// process's memory would hold (a white-box review).

/** The first `maxBytes` of the answer's body as text; the rest is not read, and the connection is let go. */
export async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // What arrived before the answer broke off is still the provider's word.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString("utf8");
}
