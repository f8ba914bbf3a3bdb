// Peer-to-peer transport: authenticated WebSocket links between validators (DESIGN §6).
// Each side proves it holds its node key by signing the other's random challenge; keys
// not in the validator set are refused. Exactly one link per pair: the node with the
// smaller key dials, the other accepts, and the dialer reconnects with backoff.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { type SigningKeyPair, signEd25519, toHex, utf8, verifyEd25519 } from '@medledger/crypto';
import { canonicalBytes } from '@medledger/ledger';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { PeerStatus } from './engine.js';
import type { PeerConfig } from './home.js';

const HANDSHAKE_DOMAIN = 'medledger/p2p/v1\n';
const HANDSHAKE_TIMEOUT_MS = 5_000;
/**
 * The dialling side's frame mask, all zeros: ws then skips XOR-ing every byte sent (a full
 * block proposal is megabytes, and masking was up to 13% of a validator's CPU under load).
 * RFC 6455 masking guards caching proxies against scripts in browsers; a peer link is
 * node to node, authenticated by the handshake, and no browser ever writes to it.
 */
const ZERO_MASK = (mask: Buffer) => {
  mask.fill(0);
};
/** Largest peer message: a full block of transactions with headroom. */
export const MAX_PEER_MESSAGE_BYTES = 32 * 1024 * 1024;
/** Largest message before the handshake finishes: `hello` and `auth` are a few hundred bytes. */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 4 * 1024;
/** Bytes a socket may send before it authenticates; past this it is cut, whatever its frames say. */
export const MAX_UNAUTHENTICATED_BYTES = 16 * 1024;
/** Inbound sockets still in their handshake, in all and from one address; more are closed at once. */
export const MAX_PENDING_HANDSHAKES = 64;
export const MAX_PENDING_HANDSHAKES_PER_ADDRESS = 8;

/**
 * What one authenticated peer may send, as token buckets refilled per second (holding two
 * seconds' worth); a peer over either is logged and disconnected. The defaults are far
 * above what a validator sends under full load (blocks of 8 MiB, vault objects of 4 MiB).
 */
export interface PeerBudget {
  messagesPerSecond: number;
  bytesPerSecond: number;
}
export const DEFAULT_PEER_BUDGET: PeerBudget = { messagesPerSecond: 5_000, bytesPerSecond: 256 * 1024 * 1024 };

export interface P2POptions {
  chainId: string;
  key: SigningKeyPair;
  listen: { host: string; port: number };
  peers: PeerConfig[];
  /**
   * Public keys allowed to connect (the validator set, which governance may change, and the
   * full nodes the operator listed): asked at each handshake.
   */
  allowed: { has(publicKey: string): boolean };
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Per-peer budgets (default DEFAULT_PEER_BUDGET). */
  budget?: PeerBudget;
  now?: () => number;
}

/** A token bucket holding two seconds of `rate`; `take` says whether `amount` fit. */
class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = 2 * rate;
    this.at = now;
  }

  take(amount: number, now: number): boolean {
    this.tokens = Math.min(2 * this.rate, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}

const sizeOf = (data: RawData): number =>
  Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;

export interface P2PHandlers {
  /** A message from an authenticated peer. Not yet validated: the handler checks it. */
  onMessage(peer: string, msg: Record<string, unknown>): void;
  /** A link to `peer` finished its handshake (after a first connect or a reconnect). */
  onConnect(peer: string): void;
}

export function handshakeBytes(chainId: string, challenge: string, from: string, to: string): Uint8Array {
  const body = canonicalBytes({ chainId, challenge, from, to });
  const out = new Uint8Array(HANDSHAKE_DOMAIN.length + body.length);
  out.set(utf8(HANDSHAKE_DOMAIN));
  out.set(body, HANDSHAKE_DOMAIN.length);
  return out;
}

export class P2P {
  private server: WebSocketServer | undefined;
  private readonly links = new Map<string, WebSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly names = new Map<string, string>();
  private pendingHandshakes = 0;
  private readonly pendingByAddress = new Map<string, number>();
  private readonly now: () => number;
  private readonly budget: PeerBudget;

  constructor(
    private readonly opts: P2POptions,
    private readonly handlers: P2PHandlers,
  ) {
    for (const p of opts.peers) this.names.set(p.publicKey, p.name);
    this.now = opts.now ?? Date.now;
    this.budget = opts.budget ?? DEFAULT_PEER_BUDGET;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const server = new WebSocketServer({ host: this.opts.listen.host, port: this.opts.listen.port, maxPayload: MAX_PEER_MESSAGE_BYTES });
      server.once('listening', () => resolve());
      server.once('error', reject);
      server.on('connection', (ws, req) => this.accept(ws, req.socket));
      this.server = server;
    });
    for (const peer of this.opts.peers) {
      const { url } = peer;
      if (url !== undefined && (peer.dial === true || peer.publicKey > this.opts.key.publicKey)) this.dial({ ...peer, url }, 0);
    }
  }

  /** Bound p2p port (useful when configured as 0). */
  get port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const ws of this.links.values()) ws.terminate();
    this.links.clear();
    this.server?.close();
    for (const ws of this.server?.clients ?? []) ws.terminate();
  }

  peers(): PeerStatus[] {
    return this.opts.peers.map((p) => ({ name: p.name, publicKey: p.publicKey, connected: this.links.has(p.publicKey) }));
  }

  connectedPeers(): string[] {
    return [...this.links.keys()];
  }

  send(peer: string, msg: Record<string, unknown>): void {
    const ws = this.links.get(peer);
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  broadcast(msg: Record<string, unknown>): void {
    const data = JSON.stringify(msg);
    for (const ws of this.links.values()) if (ws.readyState === WebSocket.OPEN) ws.send(data);
  }

  /** Drop a misbehaving peer's link; a dialer will try again after its backoff. */
  disconnect(peer: string): void {
    this.links.get(peer)?.terminate();
  }

  nameOf(peer: string): string {
    return this.names.get(peer) ?? `${peer.slice(0, 12)}…`;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private dial(peer: PeerConfig & { url: string }, attempt: number): void {
    if (this.stopped) return;
    const ws = new WebSocket(peer.url, {
      maxPayload: MAX_PEER_MESSAGE_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      generateMask: ZERO_MASK,
    });
    let retried = false;
    const retry = () => {
      if (retried || this.stopped) return;
      retried = true;
      this.later(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)), () => this.dial(peer, attempt + 1));
    };
    ws.on('error', () => retry());
    ws.on('close', () => retry());
    let socket: Socket | undefined;
    ws.once('upgrade', (res) => {
      socket = res.socket as Socket;
    });
    ws.on('open', () => {
      attempt = 0;
      this.handshake(ws, peer.publicKey, socket);
    });
  }

  /**
   * An inbound socket: refused at once when too many handshakes are in progress (in all, or
   * from its address), so unauthenticated sockets cannot hold the node's memory or CPU.
   */
  private accept(ws: WebSocket, socket: Socket): void {
    const address = socket.remoteAddress ?? '?';
    const fromAddress = this.pendingByAddress.get(address) ?? 0;
    if (this.pendingHandshakes >= MAX_PENDING_HANDSHAKES || fromAddress >= MAX_PENDING_HANDSHAKES_PER_ADDRESS) {
      // A socket error must not become an unhandled 'error' event; nothing it sends is read.
      ws.on('error', () => {});
      ws.close(1013, 'too many handshakes in progress');
      setTimeout(() => ws.terminate(), 1_000).unref();
      return;
    }
    this.pendingHandshakes++;
    this.pendingByAddress.set(address, fromAddress + 1);
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      this.pendingHandshakes--;
      const left = (this.pendingByAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.pendingByAddress.delete(address);
      else this.pendingByAddress.set(address, left);
    };
    ws.once('close', release);
    this.handshake(ws, undefined, socket, release);
  }

  /** Handshakes in progress on inbound sockets (for tests and metrics). */
  pendingHandshakeCount(): number {
    return this.pendingHandshakes;
  }

  /**
   * Run the mutual challenge-response. `expected` is the key we dialed (so a different
   * key answering is refused); for inbound links any allowed key may authenticate.
   */
  private handshake(ws: WebSocket, expected: string | undefined, socket: Socket | undefined, release = () => {}): void {
    const challenge = toHex(randomBytes(32));
    let peerKey: string | undefined;
    let sentAuth = false;
    let authenticated = false;
    let messages: TokenBucket | undefined;
    let bytes: TokenBucket | undefined;
    // Frames already received in the same chunk still arrive after terminate(): ignore them.
    let cutOff = false;
    const timer = setTimeout(() => {
      if (!authenticated) ws.terminate();
    }, HANDSHAKE_TIMEOUT_MS);
    // Count raw bytes until the peer proves its key: ws would otherwise buffer a frame of
    // up to MAX_PEER_MESSAGE_BYTES from anyone who can reach the port.
    let unauthenticatedBytes = 0;
    const countBytes = (chunk: Buffer) => {
      unauthenticatedBytes += chunk.length;
      if (unauthenticatedBytes > MAX_UNAUTHENTICATED_BYTES && !authenticated) {
        this.opts.log('warn', `refused peer link: sent over ${MAX_UNAUTHENTICATED_BYTES} bytes before authenticating`);
        cutOff = true;
        socket?.off('data', countBytes);
        ws.terminate();
      }
    };
    socket?.on('data', countBytes);
    const fail = (why: string) => {
      if (cutOff) return;
      cutOff = true;
      this.opts.log('warn', `refused peer link: ${why}`);
      clearTimeout(timer);
      socket?.off('data', countBytes);
      ws.close(4001, why.slice(0, 100));
      // A peer that ignores the close must not keep the socket (or its handshake slot).
      setTimeout(() => ws.terminate(), 1_000).unref();
    };
    ws.send(JSON.stringify({ type: 'hello', chainId: this.opts.chainId, publicKey: this.opts.key.publicKey, challenge }));
    ws.on('message', (data) => {
      if (cutOff) return;
      if (authenticated) {
        const now = this.now();
        const size = sizeOf(data);
        if (!(messages as TokenBucket).take(1, now) || !(bytes as TokenBucket).take(size, now)) {
          this.opts.log(
            'warn',
            `disconnecting peer ${this.nameOf(peerKey as string)}: over its budget of ${this.budget.messagesPerSecond} messages or ${this.budget.bytesPerSecond} bytes a second`,
          );
          cutOff = true;
          ws.terminate();
          return;
        }
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(String(data)) as Record<string, unknown>;
        } catch {
          return fail(`${this.nameOf(peerKey as string)} sent invalid JSON`);
        }
        if (typeof msg !== 'object' || msg === null) return fail(`${this.nameOf(peerKey as string)} sent a message that is not an object`);
        this.handlers.onMessage(peerKey as string, msg);
        return;
      }
      // Before authentication only the small handshake messages are read; anything larger
      // is refused without being parsed.
      if (sizeOf(data) > MAX_HANDSHAKE_MESSAGE_BYTES) return fail(`handshake message over ${MAX_HANDSHAKE_MESSAGE_BYTES} bytes`);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return fail('peer sent invalid JSON');
      }
      if (typeof msg !== 'object' || msg === null) return fail('peer sent a handshake message that is not an object');
      if (msg.type === 'hello') {
        // One hello per link: each costs us a signature.
        if (sentAuth) return fail('peer sent a second hello');
        const key = msg.publicKey;
        if (msg.chainId !== this.opts.chainId) return fail('peer is on another chain');
        if (typeof key !== 'string' || !this.opts.allowed.has(key) || key === this.opts.key.publicKey)
          return fail('peer key is not a known validator');
        if (expected !== undefined && key !== expected) return fail('peer answered with a different key than configured');
        if (typeof msg.challenge !== 'string' || msg.challenge.length !== 64) return fail('bad challenge');
        peerKey = key;
        const sig = signEd25519(this.opts.key.privateKey, handshakeBytes(this.opts.chainId, msg.challenge, this.opts.key.publicKey, key));
        ws.send(JSON.stringify({ type: 'auth', sig }));
        sentAuth = true;
        return;
      }
      if (msg.type === 'auth' && peerKey !== undefined && sentAuth) {
        const ok =
          typeof msg.sig === 'string' &&
          verifyEd25519(peerKey, handshakeBytes(this.opts.chainId, challenge, peerKey, this.opts.key.publicKey), msg.sig);
        if (!ok) return fail(`${this.nameOf(peerKey)} failed to prove its node key`);
        authenticated = true;
        clearTimeout(timer);
        socket?.off('data', countBytes);
        release();
        messages = new TokenBucket(this.budget.messagesPerSecond, this.now());
        bytes = new TokenBucket(this.budget.bytesPerSecond, this.now());
        const key = peerKey;
        this.links.get(key)?.terminate();
        this.links.set(key, ws);
        ws.on('close', () => {
          if (this.links.get(key) === ws) this.links.delete(key);
        });
        this.handlers.onConnect(key);
        return;
      }
      return fail('unexpected message before the handshake finished');
    });
    ws.on('error', () => {});
  }
}
