// A patient claims the identity a hospital registered for them (docs/fhir.md "Custody"):
// with the one-time claim code, the patient's device sends its NEW public keys and the
// rotation proof; the node, still holding the custodial keys, re-wraps every record key
// to the new encryption key, revokes the custody grants, rotates the identity onto the new
// keys, and deletes its custodial copy. The new private keys never leave the patient.
import { openDataKey, sealDataKey } from '@medledger/client';
import { isHex, verifyEd25519 } from '@medledger/crypto';
import { getIdentity, getRecord, grantIsActive, grantsFrom, identityOfKey, prefixes, rotateProofBytes } from '@medledger/ehr';
import { FhirError } from './outcome.js';
import type { FhirRepository } from './repository.js';

const SHARE_CHUNK = 500;

export interface ClaimRequest {
  code: string;
  publicKey: string;
  encryptionKey: string;
  proof: string;
}

/**
 * Complete a claim sent from `source` (the client's address). Throws FhirError 400 (bad keys
 * or proof), 403 (code), 409 (a claim in progress), 429 (too many wrong codes from `source`).
 */
export async function claimPatient(repo: FhirRepository, patientId: string, req: ClaimRequest, source: string) {
  repo.custody.checkClaimCode(patientId, req.code, source);
  if (!isHex(req.publicKey, 32) || !isHex(req.encryptionKey, 32) || !/^[0-9a-f]{128}$/.test(req.proof ?? ''))
    throw new FhirError(400, 'value', 'publicKey and encryptionKey must be 32-byte hex, proof a 64-byte hex signature');
  const agent = repo.agent;
  if (!verifyEd25519(req.publicKey, rotateProofBytes(agent.node.chain.chainId, patientId, req.publicKey), req.proof))
    throw new FhirError(400, 'value', 'proof is not the new key’s signature over the rotation statement');
  if (identityOfKey(agent.state, req.publicKey) !== undefined) throw new FhirError(400, 'value', 'that signing key is already registered');
  if (repo.custody.claiming.has(patientId)) throw new FhirError(409, 'conflict', 'a claim for this patient is in progress');
  repo.custody.claiming.add(patientId);
  try {
    const keys = repo.custody.load(patientId);
    const patient = getIdentity(agent.state, patientId);
    if (keys !== undefined && patient !== undefined && patient.publicKey !== keys.signing.publicKey) {
      // A claim whose rotation committed but whose clean-up did not finish (a crash): the
      // custodial keys are already retired, so the copy goes now.
      repo.custody.destroy(patientId);
    }
    if (keys === undefined || patient === undefined || patient.publicKey !== keys.signing.publicKey)
      throw new FhirError(403, 'security', 'unknown patient, or the claim code is wrong, used or expired');

    // 1. Re-wrap every record key sealed to the patient for the new encryption key.
    const shares: Array<{ record: string; to: string; hash: string }> = [];
    for (const recordId of agent.idsUnder(prefixes.patientRecords(patientId))) {
      const r = getRecord(agent.state, recordId);
      const envelopeHash = r?.envelopes[patientId];
      if (r === undefined || r.erased !== null || envelopeHash === undefined) continue;
      const bytes = await agent.node.vault.getVerified(envelopeHash);
      if (bytes === undefined) throw new FhirError(503, 'transient', 'a record key is not available on this node yet; retry the claim');
      const dataKey = openDataKey(JSON.parse(Buffer.from(bytes).toString('utf8')), recordId, patientId, keys.encryption.privateKey);
      try {
        const sealed = sealDataKey(dataKey, recordId, patientId, req.encryptionKey);
        agent.putObject(sealed.hash, sealed.object, patientId);
        shares.push({ record: recordId, to: patientId, hash: sealed.hash });
      } finally {
        dataKey.fill(0);
      }
    }
    const hashes: string[] = [];
    for (let i = 0; i < shares.length; i += SHARE_CHUNK)
      hashes.push(agent.submit('record.share', { envelopes: shares.slice(i, i + SHARE_CHUNK) }, keys));
    // 2. End the custody grants; 3. rotate onto the patient's own keys (the old key stops working).
    const custodyGrants = grantsFrom(agent.state, patientId, [repo.orgId]).filter((g) => grantIsActive(g, agent.blockTime));
    for (const g of custodyGrants) hashes.push(agent.submit('consent.revoke', { grant: g.id }, keys));
    hashes.push(agent.submit('identity.rotate', { newPublicKey: req.publicKey, proof: req.proof, encryptionKey: req.encryptionKey }, keys));
    await agent.waitCommitted(hashes);
    // 4. Nothing custodial is left on this node.
    repo.custody.destroy(patientId);
    return { patient: patientId, recordsRewrapped: shares.length, grantsRevoked: custodyGrants.length };
  } finally {
    repo.custody.claiming.delete(patientId);
  }
}
