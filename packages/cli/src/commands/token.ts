// `medledger token`: a SMART Backend Services bearer token for scripts. Signs a client
// assertion with the key in FILE and exchanges it at the token endpoint that the FHIR
// server's CapabilityStatement names.
import { idFromPublicKey } from '@medledger/crypto';
import { JWT_BEARER, signClientAssertion } from '@medledger/node';
import type { Command } from 'commander';
import { loadKeys } from '../cli-support.js';
import { CliError } from './chain.js';

/** The token endpoint named in `[base]/metadata` (the SMART oauth-uris extension). */
async function tokenEndpoint(base: string): Promise<string> {
  const res = await fetch(`${base}/metadata`, { headers: { accept: 'application/fhir+json' }, signal: AbortSignal.timeout(30_000) });
  const noEndpoint = (what: string) =>
    new CliError(
      `no FHIR endpoint at ${base} (/metadata ${what}): pass the FHIR base URL, e.g. http://127.0.0.1:26650/fhir/R4, ` +
        `of a node that serves one (its config.json has a "fhir" entry, docs/fhir.md)`,
      1,
    );
  if (res.status === 404) throw noEndpoint('answered 404');
  if (!res.ok) throw new CliError(`${base}/metadata answered ${res.status}`, 1);
  // A node's API root serves the web app for unknown paths: HTML, not a CapabilityStatement.
  let cs: {
    resourceType?: unknown;
    rest?: Array<{ security?: { extension?: Array<{ url?: string; extension?: Array<{ url?: string; valueUri?: string }> }> } }>;
  };
  try {
    cs = (await res.json()) as typeof cs;
  } catch {
    throw noEndpoint('is not JSON');
  }
  if (cs.resourceType !== 'CapabilityStatement') throw noEndpoint('is not a CapabilityStatement');
  const uris = cs.rest?.[0]?.security?.extension?.find(
    (e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
  );
  const token = uris?.extension?.find((e) => e.url === 'token')?.valueUri;
  if (token === undefined) throw new CliError(`${base}/metadata names no token endpoint`, 1);
  return token;
}

/**
 * Get a bearer token for the identity whose key is in `keyFile` from the FHIR server at
 * `url` (its base, e.g. http://127.0.0.1:26650/fhir/R4). Throws CliError.
 */
export async function fetchToken(opts: { keyFile: string; url: string; clientId?: string; scope?: string }): Promise<{
  access_token: string;
  expires_in: number;
  scope: string;
}> {
  const keys = await loadKeys(opts.keyFile);
  const base = opts.url.replace(/\/+$/, '');
  const tokenUrl = await tokenEndpoint(base);
  const assertion = await signClientAssertion({
    clientId: opts.clientId ?? idFromPublicKey(keys.signing.publicKey),
    privateKey: keys.signing.privateKey,
    tokenUrl,
  });
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion });
  if (opts.scope !== undefined) form.set('scope', opts.scope);
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new CliError(`the token endpoint refused: ${String(answer.error)} (${String(answer.error_description)})`, 1);
  return answer as { access_token: string; expires_in: number; scope: string };
}

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a short-lived FHIR bearer token (SMART Backend Services) for the identity whose key is in FILE')
    .requiredOption('--key <file>', "your keystore (e.g. a node home's org.key, or a staff member's key file)")
    .requiredOption('--url <url>', 'FHIR base URL, e.g. http://127.0.0.1:26650/fhir/R4')
    .option('--client-id <id>', 'identity id, when it differs from the key’s (after a key rotation)')
    .option('--scope <scopes>', 'requested scopes (default: system/*.cruds, or the scopes the node registered for this client)')
    .option('--json', 'print the whole token answer as JSON')
    .action(async (opts: { key: string; url: string; clientId?: string; scope?: string; json?: boolean }) => {
      const answer = await fetchToken({ keyFile: opts.key, url: opts.url, clientId: opts.clientId, scope: opts.scope });
      console.log(opts.json ? JSON.stringify(answer) : answer.access_token);
    });
}
