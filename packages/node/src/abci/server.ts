// The ABCI 2.0 socket server (docs/cometbft.md): CometBFT opens four connections
// (consensus, mempool, query, snapshot) to one address and sends length-prefixed protobuf
// Requests; each connection's Responses go back in request order, a Flush answered after
// everything before it. Messages are coded by cosmjs-types, not by hand.
import { createServer, type Server, type Socket } from 'node:net';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import { encodeFrame, FrameReader, type FramingError } from './framing.js';

/** Turns one Request into its Response. Thrown errors become a ResponseException. */
export type AbciHandler = (req: Request) => Response;

export interface AbciServerOpts {
  /** TCP address to listen on (CometBFT `proxy_app = "tcp://host:port"`) or a unix socket path. */
  listen: { host: string; port: number } | { path: string };
}

export interface AbciServerDeps {
  handler: AbciHandler;
  /** Operational log lines; never transaction contents. */
  log: (line: string) => void;
}

/** Listens for CometBFT and serves every connection it opens with one handler. */
export class AbciServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly opts: AbciServerOpts,
    private readonly deps: AbciServerDeps,
  ) {}

  /** Resolves once listening. */
  async start(): Promise<void> {
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const l = this.opts.listen;
      if ('path' in l) server.listen(l.path, resolve);
      else server.listen(l.port, l.host, resolve);
    });
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const reader = new FrameReader();
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.deps.log(`abci connection error: ${err.message}`));
    // Node delivers 'data' events one at a time and every handler call is synchronous, so
    // responses are written in exactly the order the requests arrived.
    socket.on('data', (chunk: Buffer) => {
      let messages: Uint8Array[];
      try {
        messages = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (err) {
        this.deps.log(`abci framing error, closing the connection: ${(err as FramingError).message}`);
        socket.destroy();
        return;
      }
      const out: Uint8Array[] = [];
      for (const bytes of messages) out.push(encodeFrame(Response.encode(this.answer(bytes)).finish()));
      if (out.length > 0) socket.write(Buffer.concat(out));
    });
  }

  private answer(bytes: Uint8Array): Response {
    let req: Request;
    try {
      req = Request.decode(bytes);
    } catch (err) {
      return Response.fromPartial({ exception: { error: `undecodable request: ${(err as Error).message}` } });
    }
    if (req.flush !== undefined) return Response.fromPartial({ flush: {} });
    if (req.echo !== undefined) return Response.fromPartial({ echo: { message: req.echo.message } });
    try {
      return this.deps.handler(req);
    } catch (err) {
      // CometBFT stops on an exception: the app refuses to guess past a broken invariant.
      this.deps.log(`abci request failed: ${(err as Error).message}`);
      return Response.fromPartial({ exception: { error: (err as Error).message } });
    }
  }
}
