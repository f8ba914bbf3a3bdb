// Validator-set changes by vote on the real CometBFT (docs/cometbft.md "Validator-set
// changes"): four genesis validators add a fifth CometBFT process by vote, then remove one
// and rotate another's key;
// the application passes each change to CometBFT as validator updates effective at the height
// its own record says. Blocks keep committing, and with the removed validator and one more
// stopped, only the new set (the fifth included) can commit. A light client pinned to genesis
// follows both changes to the newest block, and a header the replaced (genesis) set signs for
// a later height is refused. `medledger verify`'s replay accepts the chain. Needs
// scripts/install-cometbft.sh; without the binary this fails naming it (never skipped).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  type ClientError,
  fetchVerifiedBlock,
  govPropose,
  govVote,
  httpProofSource,
  MedLedgerClient,
  type ProofSource,
  TrustedGenesis,
  ValidatorSetTracker,
  VerifiedReader,
  validatorRotateAction,
} from '@medledger/client';
import { encryptKeystore, generateKeyBundle, idFromPublicKey, signEd25519 } from '@medledger/crypto';
import type { Genesis } from '@medledger/ledger';
import {
  type CometCommitJson,
  type CometHeaderJson,
  cometHeaderHash,
  cometPrecommitSignBytes,
  cometValidatorAddress,
  cometValidatorOrder,
  cometValidatorSetHash,
} from '@medledger/ledger/cometbft';
import {
  type CometPorts,
  CometRpc,
  cometValidatorPublicKey,
  HOME_FILES,
  initCometHomes,
  initNetwork,
  loadHome,
  type OrgKeyFile,
  readOrgKey,
  rpcBlockSource,
  startCometNode,
  verifyCometChain,
} from '@medledger/node';
import { freePort, freePorts, TEST_PASSPHRASE, waitFor } from '@medledger/node/testing';

process.env.MEDLEDGER_PASSPHRASE = TEST_PASSPHRASE;

const dir = mkdtempSync(join(tmpdir(), 'medledger-comet-valset-'));
type Running = Awaited<ReturnType<typeof startCometNode>>;
const running: Array<Running | undefined> = [];
after(async () => {
  for (const n of running) await n?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 60 * 60_000;
const CHAIN = 'comet-valset';
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

type BlockAnswer = { block: { header: CometHeaderJson }; commit: CometCommitJson };

/** Block `height` from `url`: its CometBFT header and the addresses whose precommits it carries. */
async function blockAt(url: string, height: number): Promise<{ header: CometHeaderJson; signers: string[] }> {
  const answer = (await httpProofSource(url).get(`/v1/blocks/${height}`)) as BlockAnswer;
  const signers = answer.commit.signatures.filter((s) => s.block_id_flag === 2).map((s) => s.validator_address.toLowerCase());
  return { header: answer.block.header, signers };
}

const heightOf = (node: Running) => node.node?.chain.height ?? 0;

test('on CometBFT a fifth validator added by vote signs from its effective height, a removed one stops, and the light client follows both', async () => {
  const organizations = ['Alpha Hospital', 'Beta Clinic', 'Gamma Lab', 'Delta Hospital'].map((name) => ({ name, kind: 'hospital' }));
  const init = initNetwork({ validators: 5, out: dir, chainId: CHAIN, ports: await freePorts(5), organizations, engine: 'cometbft' });
  const { homes, orgKeys } = init;
  // Genesis lists only the first four validators: the fifth home is a CometBFT full node that joins by vote.
  const genesis: Genesis = { ...init.genesis, validators: init.genesis.validators.slice(0, 4) };
  assert.equal(genesis.engine, 'cometbft');
  for (const home of homes) writeFileSync(join(home, HOME_FILES.genesis), `${JSON.stringify(genesis, null, 2)}\n`);
  const ports: CometPorts[] = [];
  for (const home of homes) {
    const config = JSON.parse(readFileSync(join(home, HOME_FILES.config), 'utf8')) as { p2p: { port: number } };
    ports.push({ p2p: config.p2p.port, rpc: await freePort(), abci: await freePort(), vault: await freePort() });
  }
  initCometHomes(homes, genesis, { passphrase: TEST_PASSPHRASE, ports });
  const keys = homes.map((home) => loadHome(home, TEST_PASSPHRASE).key);
  const address = keys.map((k) => cometValidatorAddress(k.signing.publicKey));
  const start = async (i: number) => {
    running[i] = await startCometNode(homes[i] as string, TEST_PASSPHRASE, { log: () => {}, node: { logger: () => {} } });
    return running[i] as Running;
  };
  for (let i = 0; i < 4; i++) await start(i);
  const url = (i: number) => (running[i] as Running).apiUrl as string;
  const trusted = TrustedGenesis.fromDocument(genesis);
  const org = (i: number, via: number) =>
    new MedLedgerClient({
      url: url(via),
      genesis: trusted,
      keys: readOrgKey((orgKeys[i] as OrgKeyFile).home, { file: (orgKeys[i] as OrgKeyFile).file }),
    });
  /** Propose `action` as organization 0 and pass it with the votes of organizations 1–3, through node `via`. */
  const pass = async (action: Parameters<typeof govPropose>[1], via: number) => {
    const p = await govPropose(org(0, via), action, HOUR);
    await govVote(org(1, via), p.id, true);
    await govVote(org(2, via), p.id, true);
    const passed = await govVote(org(3, via), p.id, true);
    assert.equal(passed.status, 'passed', JSON.stringify(passed));
    return passed.effectiveHeight as number;
  };

  // 1. Add the fifth validator, then start its CometBFT and application: it catches up and
  // signs commits from the height the application recorded, never before.
  const fifth = keys[4] as (typeof keys)[number];
  const addedAt = await pass(
    { type: 'validator.add', name: 'validator-4', publicKey: fifth.signing.publicKey, encryptionKey: fifth.encryption.publicKey, power: 1 },
    1,
  );
  await start(4);
  const signedByFifth = await waitFor(
    async () => {
      const tip = heightOf(running[1] as Running);
      for (let h = Math.max(addedAt, tip - 5); h <= tip; h++)
        if ((await blockAt(url(1), h)).signers.includes(address[4] as string)) return h;
      return undefined;
    },
    'a commit signed by the fifth validator',
    120_000,
  );
  assert.ok(signedByFifth >= addedAt);
  for (let h = 1; h < addedAt; h++)
    assert.ok(!(await blockAt(url(1), h)).signers.includes(address[4] as string), `block ${h} is before the fifth's effective height`);
  // CometBFT's own headers name the new set from the recorded height on, and the old one before.
  const fiveSet = cometValidatorSetHash([...genesis.validators, { publicKey: fifth.signing.publicKey, power: 1 }]);
  assert.equal((await blockAt(url(1), addedAt)).header.validators_hash.toLowerCase(), fiveSet);
  assert.notEqual((await blockAt(url(1), addedAt - 1)).header.validators_hash.toLowerCase(), fiveSet);

  // 2. Remove validator 0: from its effective height no commit carries its precommit.
  const removedAt = await pass({ type: 'validator.remove', validator: idFromPublicKey(keys[0]?.signing.publicKey as string) }, 1);
  await waitFor(async () => (heightOf(running[1] as Running) >= removedAt + 2 ? true : undefined), 'blocks after the removal', 120_000);
  for (let h = removedAt; h <= removedAt + 2; h++)
    assert.ok(!(await blockAt(url(1), h)).signers.includes(address[0] as string), `block ${h}: the removed validator does not sign`);

  // 3. Rotate validator 2's key. Its operator puts the next key in the home (node.next.key), a
  // member proposes the rotation, and once it passes the operator restarts the pair: CometBFT
  // then signs with the new key, which the application passed to CometBFT as the old key's
  // removal and the new key's addition, effective at the recorded height.
  const nextKey = generateKeyBundle();
  writeFileSync(
    join(homes[2] as string, HOME_FILES.nextNodeKey),
    JSON.stringify(encryptKeystore(nextKey, TEST_PASSPHRASE, { scryptN: 1024 })),
    { mode: 0o600 },
  );
  const rotatedAt = await pass(
    validatorRotateAction({
      chain: CHAIN,
      validator: idFromPublicKey(keys[2]?.signing.publicKey as string),
      newSigning: nextKey.signing,
      encryptionKey: nextKey.encryption.publicKey,
    }),
    1,
  );
  await running[2]?.stop();
  await start(2);
  assert.equal(cometValidatorPublicKey(join(homes[2] as string, 'cometbft')), nextKey.signing.publicKey, 'CometBFT signs with the new key');
  const rotatedAddress = cometValidatorAddress(nextKey.signing.publicKey);
  await waitFor(
    async () => {
      const tip = heightOf(running[1] as Running);
      for (let h = Math.max(rotatedAt, tip - 5); h <= tip; h++) if ((await blockAt(url(1), h)).signers.includes(rotatedAddress)) return h;
      return undefined;
    },
    'a commit signed by the rotated key',
    120_000,
  );
  for (let h = rotatedAt; h <= rotatedAt + 1; h++)
    assert.ok(!(await blockAt(url(1), h)).signers.includes(address[2] as string), `block ${h}: the rotated-out key does not sign`);

  // 4. Stop the removed validator and validator 1: {1, 2 (new key), 3, 4} still has 3 of 4
  // running, so blocks go on, and every one of them needs the fifth's and the new key's precommits.
  for (const i of [0, 1]) {
    await running[i]?.stop();
    running[i] = undefined;
  }
  const before = heightOf(running[3] as Running);
  await waitFor(
    async () => (heightOf(running[3] as Running) >= before + 3 ? true : undefined),
    'blocks without validators 0 and 1',
    120_000,
  );
  const last = await blockAt(url(3), before + 3);
  assert.deepEqual([...last.signers].sort(), [rotatedAddress, address[3], address[4]].sort(), 'signed by the new key, 3 and the fifth');

  // 5. A light client pinned to genesis follows both changes to the newest block.
  const source = httpProofSource(url(3));
  const tracker = new ValidatorSetTracker(genesis, source);
  const newest = await fetchVerifiedBlock(source, tracker, 'latest');
  assert.ok(newest.height >= before + 3);
  assert.deepEqual(
    (await tracker.validatorsAt(newest.height)).map((v) => v.publicKey).sort(),
    [keys[1]?.signing.publicKey, nextKey.signing.publicKey, keys[3]?.signing.publicKey, keys[4]?.signing.publicKey].sort(),
  );
  // Proven state through the same node: its CometBFT headers are checked under the followed set.
  const member = org(3, 3);
  const proven = await new VerifiedReader(trusted, {
    post: (path, body) => member.post(path, body, { auth: true }),
    get: (path) => member.get(path),
  }).read(['gov/valset-latest']);
  assert.ok(proven.height > removedAt, 'state proven at a height signed by the new set');

  // 6. The replaced (genesis) set signs a header for the newest height: every genesis key is at
  // hand, so the forgery carries all four precommits. Checked under the genesis set, as before
  // the engine followed changes, it would pass; under the followed set it is refused.
  const genesisSet = genesis.validators.map((v) => ({ publicKey: v.publicKey, power: v.power }));
  const honest = (await source.get(`/v1/blocks/${newest.height}`)) as BlockAnswer & Record<string, unknown>;
  const forgedHeader: CometHeaderJson = {
    ...honest.block.header,
    validators_hash: cometValidatorSetHash(genesisSet).toUpperCase(),
    next_validators_hash: cometValidatorSetHash(genesisSet).toUpperCase(),
  };
  const blockId = { hash: cometHeaderHash(forgedHeader).toUpperCase(), parts: honest.commit.block_id.parts };
  const time = honest.block.header.time;
  const privateKeyOf = new Map(keys.map((k) => [k.signing.publicKey, k.signing.privateKey]));
  const forgedCommit: CometCommitJson = {
    height: honest.commit.height,
    round: 0,
    block_id: blockId,
    signatures: cometValidatorOrder(genesisSet).map((v) => ({
      block_id_flag: 2,
      validator_address: cometValidatorAddress(v.publicKey).toUpperCase(),
      timestamp: time,
      signature: b64(
        signEd25519(privateKeyOf.get(v.publicKey) as string, cometPrecommitSignBytes(CHAIN, BigInt(newest.height), 0, blockId, time)),
      ),
    })),
  };
  const lying: ProofSource = {
    get: async (path) =>
      path.startsWith('/v1/blocks/')
        ? { ...honest, hash: blockId.hash.toLowerCase(), block: { ...honest.block, header: forgedHeader }, commit: forgedCommit }
        : source.get(path),
  };
  await assert.rejects(fetchVerifiedBlock(lying, new ValidatorSetTracker(genesis, source), newest.height), (e: ClientError) => {
    assert.equal(e.code, 'BAD_COMMIT', e.message);
    return true;
  });

  // 7. `medledger verify`'s replay follows the same sets through CometBFT's RPC.
  const result = await verifyCometChain(genesis, rpcBlockSource(new CometRpc((running[3] as Running).rpcUrl)));
  assert.equal(result.ok, true, JSON.stringify(result));
});
