// The API key file, its store (hashed keys, reloads) and the authenticator's verdicts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ConfigError,
  createLogger,
  InvalidArgument,
  PermissionDenied,
  Unauthenticated,
} from '@chunkmesh/common';
import { waitFor } from '@chunkmesh/test-support';
import { hashApiKey, newApiKey } from '../../src/auth/api-key.ts';
import { Authenticator } from '../../src/auth/authenticator.ts';
import { parseKeyFile } from '../../src/auth/key-file.ts';
import { ApiKeyStore } from '../../src/auth/key-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const lines: string[] = [];
const log = createLogger({}, { level: 'info', write: (l) => lines.push(l) });

const acme = newApiKey();
const globex = newApiKey();
const admin = newApiKey();
const keyFile = join(dir, 'keys');
writeFileSync(
  keyFile,
  [
    '# tenants and their keys',
    `${hashApiKey(acme)} tenant=acme name=acme-prod requests-per-second=5`,
    '',
    `${hashApiKey(globex)}   tenant=globex max-streams=2`,
    `${hashApiKey(admin)} tenant=ops role=admin name=ops-admin`,
  ].join('\n'),
);

describe('API keys', () => {
  it('are random, prefixed, and stored as their SHA-256', () => {
    assert.match(acme, /^cm-[A-Za-z0-9_-]{43}$/);
    assert.notEqual(acme, globex);
    // sha256("abc"), the FIPS 180-2 example
    assert.equal(
      hashApiKey('abc'),
      'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('parses the key file: tenants, roles, names, per-tenant limits', () => {
    const f = parseKeyFile(
      `${hashApiKey('a')} tenant=t1 requests-per-second=2.5\n${hashApiKey('b')} tenant=t1 tokens-per-second=100 role=admin name=b`,
      'keys',
    );
    assert.deepEqual(
      f.keys.map((k) => [k.tenant, k.role, k.name]),
      [
        ['t1', 'normal', hashApiKey('a').slice(0, 15)],
        ['t1', 'admin', 'b'],
      ],
    );
    assert.deepEqual(f.limits.get('t1'), { requestsPerSecond: 2.5, tokensPerSecond: 100 });
  });

  it('refuses a bad file, naming the line', () => {
    const h = hashApiKey('a');
    const bad: [string, RegExp][] = [
      ['cm-plaintextkey tenant=t', /keys:1: the first field must be sha256:.*never the key itself/],
      [`${h}`, /keys:1: tenant=<tenant> is required/],
      [`${h} tenant=t role=root`, /role must be normal or admin/],
      [`${h} tenant=t colour=blue`, /unknown field 'colour'/],
      [`${h} tenant=t constructor=1`, /unknown field 'constructor'/],
      [`${h} tenant=t max-streams=1.5`, /max-streams must be a number >= 0 \(whole\)/],
      [`${h} tenant=t requests-per-second=-1`, /requests-per-second must be a number >= 0/],
      [`${h} tenant=t\n# x\n${h} tenant=u`, /keys:3: this key is already listed/],
      [
        `${h} tenant=t max-streams=1\n${hashApiKey('b')} tenant=t max-streams=2`,
        /keys:2: tenant 't' already has maxStreams 1/,
      ],
      [`${h} tenant=`, /'tenant=' is not name=value/],
    ];
    for (const [text, message] of bad) assert.throws(() => parseKeyFile(text, 'keys'), message, text);
  });

  it('the authenticator binds a normal key to its tenant; admin keys act for any and pass the admin check', () => {
    const store = new ApiKeyStore(keyFile, log);
    after(() => store.close());
    const failures: string[] = [];
    const auth = new Authenticator(store, (r) => failures.push(r));
    assert.throws(() => auth.authenticate(undefined), Unauthenticated);
    assert.throws(() => auth.authenticate(`Basic ${acme}`), /must be Bearer <key>/);
    assert.throws(() => auth.authenticate(`Bearer ${acme}x`), /invalid API key/);
    assert.throws(
      () => auth.authenticate(`Bearer ${hashApiKey(acme)}`),
      /invalid API key/,
      'the hash is not a key',
    );
    const a = auth.authenticate(`Bearer ${acme}`);
    assert.deepEqual(a, { role: 'normal', tenant: 'acme', name: 'acme-prod' });
    assert.deepEqual(auth.authenticate(`bearer  ${acme} `), a, 'scheme is case-insensitive');
    assert.equal(auth.tenantFor(a, ''), 'acme', 'no tenant named: the key\u2019s');
    assert.equal(auth.tenantFor(a, 'acme', 'acme'), 'acme');
    assert.throws(
      () => auth.tenantFor(a, 'globex'),
      (e) => e instanceof PermissionDenied && /bound to tenant 'acme'/.test(e.message),
    );
    assert.throws(() => auth.tenantFor(a, '', 'globex'), PermissionDenied, 'the header counts too');
    assert.throws(() => auth.authenticateAdmin(`Bearer ${acme}`), PermissionDenied);
    assert.throws(() => auth.authenticateAdmin(undefined), Unauthenticated);
    const root = auth.authenticate(`Bearer ${admin}`);
    assert.equal(auth.tenantFor(root, ''), 'ops');
    assert.equal(auth.tenantFor(root, 'globex'), 'globex');
    assert.throws(() => auth.tenantFor(root, 'globex', 'acme'), InvalidArgument);
    assert.equal(auth.authenticateAdmin(`Bearer ${admin}`).name, 'ops-admin');
    assert.deepEqual(failures, [
      'missing_key',
      'malformed_key',
      'unknown_key',
      'unknown_key',
      'other_tenant',
      'other_tenant',
      'not_admin',
      'missing_key',
    ]);
    assert.deepEqual(store.limitsOf('globex'), { maxStreams: 2 });
    assert.equal(store.limitsOf('nobody'), undefined);
  });

  it('without a key store everyone is open, as any tenant, admin included', () => {
    const open = new Authenticator(undefined);
    const p = open.authenticate(undefined);
    assert.equal(open.authenticate('Bearer anything').role, 'open');
    assert.equal(open.tenantFor(p, 'whoever'), 'whoever');
    assert.equal(open.tenantFor(p, ''), '');
    assert.equal(open.authenticateAdmin(undefined), p);
  });

  it('a missing or bad file stops the start; a rewrite reloads; a broken rewrite keeps the loaded keys', async () => {
    assert.throws(
      () => new ApiKeyStore(join(dir, 'absent'), log),
      (e) => e instanceof ConfigError && /cannot read/.test(e.message),
    );
    const file = join(dir, 'reloading');
    writeFileSync(file, `${hashApiKey(acme)} tenant=acme\n`);
    const store = new ApiKeyStore(file, log, 50);
    after(() => store.close());
    assert.equal(store.lookup(acme)?.tenant, 'acme');
    writeFileSync(file, `${hashApiKey(globex)} tenant=globex\n`);
    await waitFor('the rewritten file to load', () => store.lookup(globex)?.tenant === 'globex', 5000);
    assert.equal(store.lookup(acme), undefined, 'a removed key stops working');
    lines.length = 0;
    writeFileSync(file, 'not a key file\n');
    await waitFor(
      'the failed reload to be logged',
      () => lines.some((l) => l.includes('reload failed')),
      5000,
    );
    assert.equal(store.lookup(globex)?.tenant, 'globex', 'still in force');
    assert.match(lines.find((l) => l.includes('reload failed')) ?? '', /"level":"error"/);
  });

  it('follows a Kubernetes Secret update: the ..data symlink swapped to a new directory', async () => {
    // the layout the kubelet writes: keys -> ..data/keys, ..data -> ..<timestamp>/, swapped by rename
    const mount = join(dir, 'secret-mount');
    const version = (name: string, text: string) => {
      mkdirSync(join(mount, name), { recursive: true });
      writeFileSync(join(mount, name, 'keys'), text);
      symlinkSync(name, join(mount, '..data_tmp'));
      renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    };
    version('..v1', `${hashApiKey(acme)} tenant=acme\n`);
    symlinkSync('..data/keys', join(mount, 'keys'));
    const store = new ApiKeyStore(join(mount, 'keys'), log, 50);
    after(() => store.close());
    assert.equal(store.lookup(acme)?.tenant, 'acme');
    version('..v2', `${hashApiKey(globex)} tenant=globex\n`);
    await waitFor('the swapped Secret to load', () => store.lookup(globex)?.tenant === 'globex', 5000);
    assert.equal(store.lookup(acme), undefined);
  });
});
