// hpack.js ships no types; the part of it the load generator uses.
declare module "hpack.js" {
  interface HeaderField {
    name: string;
    value: string;
  }
  interface Decompressor {
    write(block: Buffer): void;
    execute(): void;
    read(): HeaderField | null;
  }
  const hpack: { decompressor: { create(options: { table: { size: number } }): Decompressor } };
  export default hpack;
}
