// A TCP relay that hands on every byte a fixed time after it arrived, in order, both ways:
// the stand-in for `tc netem delay` on kernels without netem, so the namespace tests can still
// measure the network with a known one-way delay between hosts. TLS passes through untouched.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** Forward everything read from `from` to `to`, each chunk `delayMs` after it was read; ends `to` after the last. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  const queue: Array<{ at: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && (queue[0] as { at: number }).at <= now) {
      const { chunk } = queue.shift() as { at: number; chunk: Buffer | null };
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, (queue[0] as { at: number }).at - now);
  };
  const push = (chunk: Buffer | null) => {
    queue.push({ at: Date.now() + delayMs, chunk });
    if (timer === undefined) timer = setTimeout(drain, delayMs);
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
  from.on('close', () => {
    if (queue.length === 0) to.destroy();
  });
}

export class DelayRelay {
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  /**
   * Listen on `listen` (port 0 picks one) and relay each connection to `target` with `delayMs`
   * added in each direction. Resolves once listening.
   */
  static start(listen: { host: string; port: number }, target: { host: string; port: number }, delayMs: number): Promise<DelayRelay> {
    const server = createServer();
    const relay = new DelayRelay(server);
    server.on('connection', (inbound) => {
      const outbound = tcpConnect(target.port, target.host);
      for (const s of [inbound, outbound]) {
        relay.sockets.add(s);
        s.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
        s.once('close', () => relay.sockets.delete(s));
      }
      pipeDelayed(inbound, outbound, delayMs);
      pipeDelayed(outbound, inbound, delayMs);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve(relay));
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}
