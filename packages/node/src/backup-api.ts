// `POST /v1/admin/backup` (docs/deploy.md "Backups"): a running node holds its database locked,
// so it takes its own online snapshot when its operator asks. The request is signed with this
// node's own key (only the operator holds node.key and its passphrase), names an absolute path on
// the node's host, and carries a time within a minute of the node's clock, used once.
import { verifyEd25519 } from '@medledger/crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { answer, route } from './api-schemas.js';
import { adminBackupBytes, BackupError } from './backup.js';
import { ApiError } from './errors.js';
import type { RouteDeps } from './route-deps.js';
import * as S from './shape-schemas.js';

/** How far the request's time may be from the node's clock. */
export const ADMIN_REQUEST_WINDOW_MS = 60_000;

const schema = route({
  ok: { 200: answer('the backup written', Type.Object({ chainId: Type.String(), height: S.Count, files: S.Count, bytes: S.Count })) },
  summary: "Back this node up (its operator only: signed with the node's own key)",
  tags: ['operations'],
  body: Type.Object(
    {
      out: Type.String({ minLength: 2, maxLength: 4096, description: 'absolute path of the backup file on the node host; must not exist' }),
      time: Type.Integer({ minimum: 0, description: "the request time (ms); within a minute of the node's clock" }),
      signature: Type.String({ pattern: '^[0-9a-f]{128}$', description: 'node key signature of adminBackupBytes(chain, node, out, time)' }),
    },
    { additionalProperties: false },
  ),
});

export function registerBackupRoutes(app: FastifyInstance, node: RouteDeps): void {
  let lastTime = 0;
  app.post('/v1/admin/backup', { schema }, async (req) => {
    const { out, time, signature } = req.body as { out: string; time: number; signature: string };
    const publicKey = node.home.key.signing.publicKey;
    const bytes = adminBackupBytes(node.chain.chainId, publicKey, out, time);
    if (!verifyEd25519(publicKey, bytes, signature))
      throw new ApiError('ACCESS_DENIED', "only this node's operator (its node key) may back it up");
    const now = node.now();
    // A replayed request is refused: its time must be fresh and later than the last one used.
    if (Math.abs(now - time) > ADMIN_REQUEST_WINDOW_MS || time <= lastTime)
      throw new ApiError('ACCESS_DENIED', 'the request time is stale or already used; sign a new request');
    lastTime = time;
    try {
      return await node.backupTo(out);
    } catch (err) {
      if (err instanceof BackupError) throw new ApiError(err.code, err.message);
      throw err;
    }
  });
}
