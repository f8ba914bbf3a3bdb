// Peer-to-peer transport: authenticated WebSocket links between validators (DESIGN §6).
// Each side proves it holds its node key by signing the other's random challenge; keys
// not in the validator set are refused. Exactly one link per pair: the node with the
// smaller key dials, the other accepts, and the dialer reconnects with backoff.
import { randomBytes } from 'node:crypto';
import { type SigningKeyPair, signEd25519, toHex, utf8, verifyEd25519 } from '@medledger/crypto';
import { canonicalBytes } from '@medledger/ledger';
import { WebSocket, WebSocketServer } from 'ws';
import type { PeerStatus } from './engine.js';
import type { PeerConfig } from './home.js';

const HANDSHAKE_DOMAIN = 'medledger/p2p/v1\n';
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** Largest peer message: a full block of transactions with headroom. */
export const MAX_PEER_MESSAGE_BYTES = 32 * 1024 * 1024;

export interface P2POptions {
  chainId: string;
  key: SigningKeyPair;
  listen: { host: string; port: number };
  peers: PeerConfig[];
  /** Public keys allowed to connect (the validator set). */
  allowed: ReadonlySet<string>;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

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

  constructor(
    private readonly opts: P2POptions,
    private readonly handlers: P2PHandlers,
  ) {
    for (const p of opts.peers) this.names.set(p.publicKey, p.name);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const server = new WebSocketServer({ host: this.opts.listen.host, port: this.opts.listen.port, maxPayload: MAX_PEER_MESSAGE_BYTES });
      server.once('listening', () => resolve());
      server.once('error', reject);
      server.on('connection', (ws) => this.handshake(ws, undefined));
      this.server = server;
    });
    for (const peer of this.opts.peers) {
      if (peer.publicKey > this.opts.key.publicKey) this.dial(peer, 0);
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

  private dial(peer: PeerConfig, attempt: number): void {
    if (this.stopped) return;
    const ws = new WebSocket(peer.url, { maxPayload: MAX_PEER_MESSAGE_BYTES, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    let retried = false;
    const retry = () => {
      if (retried || this.stopped) return;
      retried = true;
      this.later(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)), () => this.dial(peer, attempt + 1));
    };
    ws.on('error', () => retry());
    ws.on('close', () => retry());
    ws.on('open', () => {
      attempt = 0;
      this.handshake(ws, peer.publicKey);
    });
  }

  /**
   * Run the mutual challenge-response. `expected` is the key we dialed (so a different
   * key answering is refused); for inbound links any allowed key may authenticate.
   */
  private handshake(ws: WebSocket, expected: string | undefined): void {
    const challenge = toHex(randomBytes(32));
    let peerKey: string | undefined;
    let sentAuth = false;
    let authenticated = false;
    const timer = setTimeout(() => {
      if (!authenticated) ws.terminate();
    }, HANDSHAKE_TIMEOUT_MS);
    const fail = (why: string) => {
      this.opts.log('warn', `refused peer link: ${why}`);
      clearTimeout(timer);
      ws.close(4001, why.slice(0, 100));
    };
    ws.send(JSON.stringify({ type: 'hello', chainId: this.opts.chainId, publicKey: this.opts.key.publicKey, challenge }));
    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return fail('peer sent invalid JSON');
      }
      if (authenticated) {
        this.handlers.onMessage(peerKey as string, msg);
        return;
      }
      if (msg.type === 'hello') {
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
