// `medledger tls`: a certificate for one existing node home (a home made without --tls, or the
// node of an organization that joins later) and the pin of a certificate, for the peer lists
// of the other members (docs/deploy.md "Certificates").
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { certificatePin, HOME_FILES, type NodeConfig, TLS_FILES, writeHomeCertificate } from '@medledger/node';
import type { Command } from 'commander';
import { output } from '../cli-support.js';
import { CliError, EXIT } from '../exit-codes.js';

export function registerTlsCommands(program: Command): void {
  const tls = program.command('tls').description('certificates for HTTPS and mutual TLS between peers');

  tls
    .command('cert')
    .description('make a certificate and key for a node home (tls/node.crt, tls/node.key) and turn on HTTPS and mutual TLS in its config')
    .requiredOption('--home <dir>', 'the node home')
    .option(
      '--hosts <list>',
      'comma-separated further host names or addresses the certificate is for (its api.host and p2p.host are always in)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (o: { home: string; hosts?: string; json?: boolean }) => {
      const home = resolve(o.home);
      const file = join(home, HOME_FILES.config);
      let config: NodeConfig;
      try {
        config = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
      } catch {
        throw new CliError(`${file} is not a node home's config.json`, EXIT.usage);
      }
      const extraHosts = (o.hosts ?? '')
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== '');
      let cert: Awaited<ReturnType<typeof writeHomeCertificate>>;
      try {
        cert = await writeHomeCertificate(home, config, { extraHosts });
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.failed);
      }
      config.tls = { ...TLS_FILES };
      config.p2p.tls = { ...TLS_FILES };
      writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      // Peers still on ws:// or without a pin make the node refuse to start until they are filled in.
      const unpinned = config.peers
        .filter((p) => p.tlsPin === undefined || (p.url !== undefined && !p.url.startsWith('wss://')))
        .map((p) => p.name);
      output(o, { home, cert: join(home, TLS_FILES.cert), pin: cert.pin, peersToPin: unpinned }, () => [
        `wrote ${join(home, TLS_FILES.cert)} and ${TLS_FILES.key} (0600); HTTPS and mutual TLS are on in config.json`,
        `pin: ${cert.pin}`,
        'give the pin to every other member: each adds it as tlsPin of this node in its peers[]',
        ...(unpinned.length === 0
          ? []
          : [
              `before starting, set url wss://… and tlsPin in peers[] for: ${unpinned.join(', ')} (each member's pin: medledger tls pin FILE)`,
            ]),
      ]);
    });

  tls
    .command('pin')
    .description('print the pin (sha256/ of the public key) of a PEM certificate, as peers[].tlsPin takes it')
    .argument('<file>', "a PEM certificate, e.g. a home's tls/node.crt")
    .option('--json', 'print the result as JSON')
    .action((file: string, o: { json?: boolean }) => {
      let pin: string;
      try {
        pin = certificatePin(readFileSync(file));
      } catch (err) {
        throw new CliError(`${file} is not a PEM certificate: ${(err as Error).message}`, EXIT.usage);
      }
      output(o, { file, pin }, () => pin);
    });
}
