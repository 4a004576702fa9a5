import { randomBytes } from 'node:crypto';

export type FormPart = { name: string; value: string } | { name: string; filename: string; mime: string; data: Buffer };

/** A multipart/form-data body for an upstream call, with a boundary that cannot occur in the parts by chance. */
export function multipartBody(parts: readonly FormPart[]): { body: Buffer; contentType: string } {
  const boundary = `----pool${randomBytes(16).toString('hex')}`;
  const chunks: Buffer[] = [];
  // Quotes and line breaks in a name would end the header early.
  const quoted = (text: string) => text.replace(/["\r\n\\]/g, '_');
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(part.name)}"`;
    if ('data' in part) head += `; filename="${quoted(part.filename)}"\r\nContent-Type: ${part.mime.replace(/[\r\n]/g, '')}`;
    chunks.push(Buffer.from(`${head}\r\n\r\n`), 'data' in part ? part.data : Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
