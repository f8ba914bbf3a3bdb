// A solo node with a little of everything for fuzzing its API from its own OpenAPI document:
// a patient with a record, a clinician the patient granted access to, and the patient's session.
import { join } from 'node:path';
import { MedLedgerClient, staffRegisterBody, TrustedGenesis } from '@medledger/client';
import { generateKeyBundle, idFromPublicKey } from '@medledger/crypto';
import { readOrgKey } from '../home.js';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from './harness.js';

export interface FuzzNode {
  t: TestNode;
  /** The patient's session token. */
  token: string;
  patient: string;
  record: string;
  grant: string;
  clinician: string;
}

/** Start the node and seed it; the caller cleans `t` up. */
export async function startFuzzNode(): Promise<FuzzNode> {
  process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
  // The fuzzer sends thousands of requests from one address: the limiter is tested elsewhere.
  const t = await startSoloNode({ config: { rateLimit: { windowMs: 10_000, perIdentity: 1_000_000, perIp: 1_000_000 } } });
  try {
    const genesis = TrustedGenesis.fromDocument(t.node.chain.genesis);
    const org = new MedLedgerClient({ genesis, url: t.url, keys: readOrgKey(join(t.dir, 'node0')) });
    const doctorKeys = generateKeyBundle();
    await org.submitAndWait(
      'staff.register',
      staffRegisterBody({
        publicKey: doctorKeys.signing.publicKey,
        encryptionKey: doctorKeys.encryption.publicKey,
        role: 'clinician',
        name: 'Dr Fuzz',
      }),
    );
    const clinician = idFromPublicKey(doctorKeys.signing.publicKey);
    const patient = new MedLedgerClient({ genesis, url: t.url, keys: generateKeyBundle() });
    const { id } = await patient.registerPatient();
    const { recordId } = await patient.writeRecord({
      patient: id,
      resource: { resourceType: 'AllergyIntolerance', code: { text: 'penicillin' }, criticality: 'high' },
      category: 'allergies',
    });
    const { grantId } = await patient.grant({ grantee: clinician, categories: ['allergies'], purpose: 'treatment' });
    const { token } = await patient.signIn();
    return { t, token, patient: id, record: recordId, grant: grantId, clinician };
  } catch (err) {
    await t.cleanup();
    throw err;
  }
}
