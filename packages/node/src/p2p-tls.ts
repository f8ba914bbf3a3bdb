// Mutual TLS for peer links (docs/deploy.md "Certificates"): the listening server and the
// dialer, each checking the other side's certificate key against the pins of the peer list.
// The certificates are self-signed, so the pin replaces CA and host-name checks.

import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { createConnection } from 'node:net';
import { isIP, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { PeerConfig } from './home.js';
import { certificatePin, isCertificatePin } from './node-cert.js';

/** This node's PEM certificate and key. */
export interface PeerTls {
  cert: string | Buffer;
  key: string | Buffer;
}

/** The pin of the certificate a TLS socket's peer presented, or undefined (none, or not TLS). */
export function peerPinOf(socket: Socket): string | undefined {
  const cert = (socket as TLSSocket).getPeerX509Certificate?.();
  return cert === undefined ? undefined : certificatePin(cert);
}

/**
 * Refuse a peer list that does not fit the transport: with TLS every peer needs a pin and
 * any url must be `wss://` (no silent downgrade to plain `ws://`); without TLS every peer is `ws://`.
 * Throws an Error naming the peer and what it needs.
 */
export function checkPeerList(peers: PeerConfig[], tls: boolean): void {
  for (const p of peers) {
    if (tls && !isCertificatePin(p.tlsPin))
      throw new Error(`config peers: ${p.name} needs tlsPin ("sha256/" and 64 hex digits, the pin of its TLS key) when p2p.tls is set`);
    // A peer without url is only accepted, never dialed (a joining full node).
    if (p.url === undefined) continue;
    const scheme = p.url.split(':')[0];
    if (tls && scheme !== 'wss') throw new Error(`config peers: ${p.name} has url ${p.url}; with p2p.tls every peer url must be wss://`);
    if (!tls && scheme !== 'ws') throw new Error(`config peers: ${p.name} has url ${p.url}; without p2p.tls peer urls are ws://`);
  }
}

/**
 * The HTTPS server under the peer WebSocket server. It asks every client for a certificate,
 * and one that sends none, or one whose key is not in `pins`, has its socket destroyed as soon
 * as the TLS handshake ends. Node's TLS has no per-certificate verify callback, and
 * OpenSSL's own check cannot take self-signed certificates by pin. So no HTTP upgrade or
 * WebSocket frame of such a socket is ever read. `accepted(socket, pin)` is told of every
 * socket let through; `refused(why)` of every other.
 */
export function createPeerTlsServer(
  tls: PeerTls,
  pins: ReadonlySet<string>,
  opts: { handshakeTimeoutMs: number; accepted: (socket: Socket, pin: string) => void; refused: (why: string) => void },
): HttpsServer {
  const server = createHttpsServer({
    cert: tls.cert,
    key: tls.key,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
    // An unauthenticated socket gets as long for TLS as it then gets for the peer handshake (not Node's 120 s).
    handshakeTimeout: opts.handshakeTimeoutMs,
  });
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const pin = peerPinOf(socket);
    if (pin !== undefined && pins.has(pin)) return opts.accepted(socket, pin);
    opts.refused(
      `refused peer link from ${socket.remoteAddress ?? '?'} at TLS: ${pin === undefined ? 'no client certificate' : 'certificate key not in the peer list'}`,
    );
    socket.destroy();
  });
  // Handshake failures (a client that aborts, a protocol error) are the client's problem.
  server.on('tlsClientError', () => {});
  return server;
}

/**
 * A `createConnection` for the WebSocket client dialing `peer`: TLS 1.3 presenting this
 * node's certificate, the socket cut when the server's certificate key is not `peer.tlsPin`,
 * so a host answering at the peer's address with any other key never gets past TLS.
 */
export function pinnedConnector(
  peer: PeerConfig,
  tls: PeerTls,
  opts: { accepted: (socket: Socket, pin: string) => void; refused: (why: string) => void },
): typeof createConnection {
  return ((options: ConnectionOptions & { host?: string }) => {
    const host = options.host ?? '';
    const socket = tlsConnect({
      ...options,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      // SNI carries host names only (RFC 6066 §3).
      servername: isIP(host) === 0 ? host : '',
    });
    socket.once('secureConnect', () => {
      const pin = peerPinOf(socket);
      if (pin !== undefined && pin === peer.tlsPin) return opts.accepted(socket, pin);
      opts.refused(`refused peer link to ${peer.name} at TLS: its certificate key is not the one pinned in the peer list`);
      socket.destroy(new Error('peer certificate key is not pinned'));
    });
    return socket;
  }) as unknown as typeof createConnection;
}
