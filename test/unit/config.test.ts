import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, ENV, resolveConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
function file(content: unknown): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

describe('resolveConfig', () => {
  it('without any source gives the documented defaults: 127.0.0.1:9000, ./data, info', () => {
    const c = resolveConfig({}, {});
    assert.deepEqual(c, DEFAULTS);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 9000);
    assert.equal(c.dataDir, './data');
    assert.equal(c.logLevel, 'info');
    assert.match(c.rootAccountId, /^\d{12}$/);
  });

  it('precedence is flags > environment > file > defaults, setting by setting', () => {
    const config = file({ port: 7000, host: '0.0.0.0', dataDir: '/from/file', logLevel: 'debug', region: 'eu-west-1' });
    const env = { TESSERA_CONFIG: config, TESSERA_PORT: '8000', TESSERA_HOST: '::1', TESSERA_DATA_DIR: '/from/env' };
    const c = resolveConfig({ port: '9100' }, env);
    assert.equal(c.port, 9100, 'flag beats env and file');
    assert.equal(c.host, '::1', 'env beats file');
    assert.equal(c.dataDir, '/from/env');
    assert.equal(c.logLevel, 'debug', 'file beats default');
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.rootAccessKey, DEFAULTS.rootAccessKey, 'default when nobody sets it');
  });

  it('every documented variable is read: TESSERA_PORT, _HOST, _DATA_DIR, _LOG_LEVEL, _ROOT_ACCESS_KEY, _ROOT_SECRET_KEY, _TLS_CERT, _TLS_KEY', () => {
    const c = resolveConfig({}, {
      TESSERA_PORT: '1234', TESSERA_HOST: '10.0.0.1', TESSERA_DATA_DIR: '/d', TESSERA_LOG_LEVEL: 'error',
      TESSERA_ROOT_ACCESS_KEY: 'AK', TESSERA_ROOT_SECRET_KEY: 'SK', TESSERA_TLS_CERT: '/c.pem', TESSERA_TLS_KEY: '/k.pem',
    });
    assert.deepEqual(
      [c.port, c.host, c.dataDir, c.logLevel, c.rootAccessKey, c.rootSecretKey, c.tlsCert, c.tlsKey],
      [1234, '10.0.0.1', '/d', 'error', 'AK', 'SK', '/c.pem', '/k.pem'],
    );
    for (const name of Object.values(ENV)) assert.match(name, /^TESSERA_[A-Z0-9_]+$/);
  });

  it('--config names the file and beats TESSERA_CONFIG', () => {
    const a = file({ region: 'from-flag-file' });
    const b = file({ region: 'from-env-file' });
    assert.equal(resolveConfig({ config: a }, { TESSERA_CONFIG: b }).region, 'from-flag-file');
  });

  it('the config file may use the flag spelling (data-dir) as well as the field name', () => {
    const c = resolveConfig({ config: file({ 'data-dir': '/kebab', 'root-access-key': 'k', logLevel: 'warn' }) }, {});
    assert.equal(c.dataDir, '/kebab');
    assert.equal(c.rootAccessKey, 'k');
    assert.equal(c.logLevel, 'warn');
  });

  it('numbers, lists and booleans are coerced; a non-number is an error', () => {
    const c = resolveConfig({}, { TESSERA_DOMAINS: 'a.test, b.test', TESSERA_ALLOW_INSECURE_SSE_C: 'true', TESSERA_INLINE_THRESHOLD: '10' });
    assert.deepEqual(c.domains, ['a.test', 'b.test']);
    assert.equal(c.allowInsecureSseC, true);
    assert.equal(c.inlineThreshold, 10);
    assert.throws(() => resolveConfig({ port: 'abc' }, {}), /port: not a number/);
  });

  it('masterKeyFile comes from --master-key-file, TESSERA_MASTER_KEY_FILE or the file; unset by default', () => {
    assert.equal(resolveConfig({}, {}).masterKeyFile, undefined);
    assert.equal(resolveConfig({}, { TESSERA_MASTER_KEY_FILE: '/env.key' }).masterKeyFile, '/env.key');
    assert.equal(resolveConfig({ masterKeyFile: '/flag.key' }, { TESSERA_MASTER_KEY_FILE: '/env.key' }).masterKeyFile, '/flag.key');
    assert.equal(resolveConfig({ config: file({ 'master-key-file': '/file.key' }) }, {}).masterKeyFile, '/file.key');
  });

  it('an empty environment variable counts as unset', () => {
    assert.equal(resolveConfig({}, { TESSERA_PORT: '' }).port, 9000);
  });

  it('a config file that does not parse or names an unknown setting is an error naming the file', () => {
    const bad = file('{ not json');
    assert.throws(() => resolveConfig({ config: bad }, {}), new RegExp(`config file ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.throws(() => resolveConfig({ config: file({ prot: 1 }) }, {}), /unknown setting "prot"/);
    assert.throws(() => resolveConfig({ config: file([1]) }, {}), /expected a JSON object/);
  });
});
