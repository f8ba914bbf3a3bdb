// Test helpers for the FHIR endpoint: a solo node serving FHIR for its organization, and
// SMART Backend Services tokens for a key.
import { join } from 'node:path';
import { idFromPublicKey, type KeyBundle } from '@medledger/crypto';
import { readOrgKey } from '../home.js';
import { startSoloNode, TEST_PASSPHRASE, type TestNode } from '../testing/harness.js';
import { signClientAssertion } from './auth.js';

export interface FhirTestNode extends TestNode {
  base: string;
  orgKeys: KeyBundle;
  orgId: string;
}

/** A solo node with the FHIR endpoint on, for the organization of its own home; `fhir`: its config.json `fhir` entry. */
export async function startFhirNode(
  opts: { organizations?: Array<{ name: string; kind: string }>; fhir?: Record<string, unknown> } = {},
): Promise<FhirTestNode> {
  // The FHIR module reads the organization's keystore with MEDLEDGER_PASSPHRASE, as a node
  // started from the command line does.
  process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;
  const { fhir = {}, ...rest } = opts;
  const t = await startSoloNode({ config: { fhir }, ...rest });
  const orgKeys = readOrgKey(join(t.dir, 'node0'));
  return { ...t, base: `${t.url}/fhir/R4`, orgKeys, orgId: idFromPublicKey(orgKeys.signing.publicKey) };
}

/** POST a token request form; returns status and JSON. */
export async function requestToken(base: string, form: Record<string, string>) {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

/** A bearer token for `keys` (identity `clientId`, default derived from the key). Throws if refused. */
export async function tokenFor(base: string, keys: KeyBundle, clientId = idFromPublicKey(keys.signing.publicKey)): Promise<string> {
  const assertion = await signClientAssertion({ clientId, privateKey: keys.signing.privateKey, tokenUrl: `${base}/auth/token` });
  const { status, json } = await requestToken(base, {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope: 'system/*.cruds',
  });
  if (status !== 200) throw new Error(`token refused: ${status} ${json.error}`);
  return json.access_token as string;
}

/** Sign and submit a transaction with `keys` at its next nonce. */
export async function submitAs(t: TestNode, keys: KeyBundle, kind: string, body: Record<string, unknown>): Promise<string> {
  const { signTx } = await import('@medledger/ledger');
  const tx = signTx(
    {
      v: 1,
      chain: t.node.chain.chainId,
      kind,
      signer: keys.signing.publicKey,
      nonce: t.node.chain.app.pendingNonce(keys.signing.publicKey),
      body,
    },
    keys.signing.privateKey,
  );
  return t.node.submitTx(tx).hash;
}
