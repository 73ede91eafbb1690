// Request bodies: read up to a cap (413 beyond), parsed as JSON (400 when it is not).
import type { IncomingMessage } from 'node:http';
import { ErrorCode, FleetError } from '../errors.js';

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new FleetError(ErrorCode.BODY_TOO_LARGE, `the request body is ${declared} bytes; at most ${maxBytes} are accepted (serve.maxBodyBytes).`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw new FleetError(ErrorCode.BODY_TOO_LARGE, `the request body is over ${maxBytes} bytes (serve.maxBodyBytes); send less.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as JSON; an empty body is `{}` (commands without arguments). */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const raw = await readBody(req, maxBytes);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (err) {
    throw new FleetError(ErrorCode.BAD_REQUEST, `the request body is not valid JSON (${(err as Error).message}); send a JSON object with Content-Type: application/json.`);
  }
}
