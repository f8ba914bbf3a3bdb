// A one-validator network of named organizations on a real node over HTTP, for the CLI's
// medicines tests: the same set-up each of them needs, made once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustedGenesis } from '@medledger/client';
import { initNetwork, loadHome, MedLedgerNode, type OrgKeyFile } from '@medledger/node';

export interface OrgNetwork {
  /** The directory init wrote (genesis.json, the home); removed by stop(). */
  dir: string;
  home: string;
  node: MedLedgerNode;
  url: string;
  trusted: TrustedGenesis;
  /** The organizations' admin key files, in the order given. */
  orgs: OrgKeyFile[];
  stop(): Promise<void>;
}

/** Start one validator on free ports with fast blocks, founding `organizations`. */
export async function startOrgNetwork(chainId: string, organizations: Array<{ name: string; kind: string }>): Promise<OrgNetwork> {
  const dir = mkdtempSync(join(tmpdir(), `medledger-${chainId}-`));
  const init = initNetwork({ validators: 1, out: dir, chainId, organizations });
  const home = init.homes[0] as string;
  const loaded = loadHome(home);
  loaded.config.api.port = 0;
  loaded.config.p2p.port = 0;
  loaded.config.consensus.blockIntervalMs = 20;
  const node = new MedLedgerNode(loaded, { logger: () => {} });
  const url = await node.start();
  return {
    dir,
    home,
    node,
    url,
    trusted: TrustedGenesis.fromDocument(node.chain.genesis),
    orgs: init.orgKeys,
    async stop() {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
