// The proven-state part of `npm run bench` (docs/state.md): for each kind of state a client
// relies on, the size of its proof and of the whole answer, the fetch time, and the time a
// client takes to check it from the genesis alone (commit signatures, app hash, proof).
import { MedLedgerClient, TrustedGenesis } from '@medledger/client';
import { verifyCommit } from '@medledger/client/light';
import { generateKeyBundle } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import { checkAppHash, type ProvenStateAnswer, verifyStateProof } from '@medledger/ledger/state-proof';
import { fhirResourceOfSize } from './bench-records.js';

/** Figures for one kind of proven query (medians over the rounds). */
export interface ProofKindResult {
  kind: string;
  keys: number;
  /** Sibling hashes in the (first) entry's proof. */
  siblings: number;
  /** JSON bytes of the entries' proofs alone. */
  proofBytes: number;
  /** JSON bytes of the whole answer (header, commit, roots, entries with values). */
  answerBytes: number;
  fetchP50Ms: number;
  /** Client-side check: commit signatures + app hash + every proof. */
  verifyP50Ms: number;
  /** The proofs alone (verifyStateProof), per answer. */
  proofVerifyP50Ms: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Set up a patient with a record, a read-write grantee, a delegate and a logged read, then
 * prove each kind of key `rounds` times through `url`. Throws if any answer fails to verify.
 */
export async function benchProofs(
  opts: { url: string; genesis: Genesis; rounds: number },
  log: (line: string) => void,
): Promise<ProofKindResult[]> {
  // The SDK clients that set the scene trust the same genesis the answers are checked against.
  const trusted = TrustedGenesis.fromDocument(opts.genesis);
  const patient = new MedLedgerClient({ url: opts.url, keys: generateKeyBundle(), genesis: trusted });
  const grantee = new MedLedgerClient({ url: opts.url, keys: generateKeyBundle(), genesis: trusted });
  const delegate = new MedLedgerClient({ url: opts.url, keys: generateKeyBundle(), genesis: trusted });
  const { id: patientId } = await patient.registerPatient();
  const { id: granteeId } = await grantee.registerPatient();
  const { id: delegateId } = await delegate.registerPatient();
  const { recordId } = await patient.writeRecord({ patient: patientId, resource: fhirResourceOfSize(1024), category: 'laboratory' });
  const { grantId } = await patient.grant({ grantee: granteeId, categories: ['laboratory'], access: 'read-write', purpose: 'treatment' });
  await patient.setDelegate(delegateId);
  await delegate.acceptDelegation(patientId);
  await grantee.readRecord(recordId, 'treatment');
  let event: { height: number; node: string; id: string } | undefined;
  for (let i = 0; i < 300 && event === undefined; i++) {
    event = (await patient.accessLog(patientId)).find((e) => e.accessor === granteeId) as typeof event;
    if (event === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  if (event === undefined) throw new Error('the bench read was never logged');
  const accessKey = `access/${patientId}/${String(event.height).padStart(12, '0')}/${event.node}-${event.id}`;

  const kinds: Array<{ kind: string; keys: string[]; as?: MedLedgerClient }> = [
    { kind: 'identity (public)', keys: [`identity/${patientId}`] },
    { kind: 'validator set (public)', keys: ['meta/validators'] },
    { kind: 'emergency params (public)', keys: ['meta/emergency'] },
    { kind: 'absent identity (non-membership)', keys: [`identity/${'ab'.repeat(20)}`] },
    { kind: 'grantees of a patient', keys: [`granteelist/${patientId}`], as: patient },
    { kind: 'grant', keys: [`grant/${grantId}`], as: grantee },
    { kind: 'delegates of a patient', keys: [`delegatelist/${patientId}`], as: patient },
    { kind: 'record anchor with envelopes', keys: [`record/${recordId}`], as: grantee },
    { kind: 'access-log entry', keys: [accessKey], as: patient },
    {
      kind: 'recipient set (batch)',
      keys: [
        `identity/${patientId}`,
        `delegatelist/${patientId}`,
        `identity/${delegateId}`,
        `granteelist/${patientId}`,
        `grants/${patientId}/${granteeId}`,
        `grant/${grantId}`,
        `identity/${granteeId}`,
      ],
      as: grantee,
    },
  ];
  log(`state proofs: ${kinds.length} kinds × ${opts.rounds} rounds, each checked from genesis…`);
  const anonymous = new MedLedgerClient({ url: opts.url, keys: generateKeyBundle(), genesis: trusted });
  const out: ProofKindResult[] = [];
  for (const k of kinds) {
    const client = k.as ?? anonymous;
    const fetches: number[] = [];
    const verifies: number[] = [];
    const proofOnly: number[] = [];
    let answer: ProvenStateAnswer | undefined;
    for (let r = 0; r < opts.rounds; r++) {
      const t0 = performance.now();
      answer = (
        k.keys.length === 1
          ? await client.get(`/v1/state/proof?key=${encodeURIComponent(k.keys[0] as string)}`, { auth: k.as !== undefined })
          : await client.post('/v1/state/proofs', { keys: k.keys }, { auth: true })
      ) as ProvenStateAnswer;
      const t1 = performance.now();
      verifyCommit(opts.genesis, answer.header, answer.commit);
      checkAppHash(answer.header.appHash, answer.stateRoot, answer.resultsRoot);
      const t2 = performance.now();
      for (const e of answer.entries) verifyStateProof(answer.stateRoot, e.key, e.value, e.proof);
      const t3 = performance.now();
      fetches.push(t1 - t0);
      verifies.push(t3 - t1);
      proofOnly.push(t3 - t2);
    }
    const a = answer as ProvenStateAnswer;
    const result: ProofKindResult = {
      kind: k.kind,
      keys: k.keys.length,
      siblings: a.entries[0]?.proof.siblings.length ?? 0,
      proofBytes: a.entries.reduce((n, e) => n + JSON.stringify(e.proof).length, 0),
      answerBytes: JSON.stringify(a).length,
      fetchP50Ms: round2(median(fetches)),
      verifyP50Ms: round2(median(verifies)),
      proofVerifyP50Ms: round2(median(proofOnly)),
    };
    log(
      `  ${result.kind}: ${result.keys} key(s), ${result.siblings} siblings, proof ${result.proofBytes} B, answer ${result.answerBytes} B, fetch p50 ${result.fetchP50Ms} ms, verify p50 ${result.verifyP50Ms} ms (proofs alone ${result.proofVerifyP50Ms} ms)`,
    );
    out.push(result);
  }
  return out;
}
