import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionTable } from '../../src/forwarding/session-table.ts';

describe('session table', () => {
  it('is bounded in bytes: long session ids take more room, the least recently used go first', () => {
    const table = new SessionTable(64 * 1024);
    // 1 MiB of session ids through a 64 KiB table.
    for (let i = 0; i < 1024; i++) table.set(`${i}-${'s'.repeat(1000)}`, 'worker-1');
    assert.ok(table.bytes <= 64 * 1024, `${table.bytes} bytes held`);
    assert.ok(table.size > 10 && table.size < 40, `${table.size} entries of about 2 KB`);
    assert.equal(table.get(`1023-${'s'.repeat(1000)}`), 'worker-1', 'the newest is kept');
    assert.equal(table.get(`0-${'s'.repeat(1000)}`), undefined, 'the oldest went');
    // Short ids: many more fit in the same bytes.
    for (let i = 0; i < 10_000; i++) table.set(`u${i}`, 'worker-2');
    assert.ok(table.bytes <= 64 * 1024);
    assert.ok(table.size > 300, `${table.size} short entries`);
  });

  it('a lookup refreshes nothing, a set moves the session to the newest; replacing keeps the count right', () => {
    const table = new SessionTable(1024);
    table.set('a', 'w1');
    table.set('a', 'w2');
    assert.equal(table.size, 1);
    const one = table.bytes;
    table.set('a', 'w3');
    assert.equal(table.bytes, one, 'replacing an entry does not count it twice');
    assert.equal(table.get('a'), 'w3');
  });

  it('ages entries out', () => {
    const table = new SessionTable(1024, 1000);
    table.set('a', 'w1', 0);
    assert.equal(table.get('a', 500), 'w1');
    assert.equal(table.get('a', 1501), undefined);
    assert.equal(table.bytes, 0);
  });

  it('an entry larger than the whole table is not kept', () => {
    const table = new SessionTable(1024);
    table.set('x'.repeat(4096), 'w1');
    assert.equal(table.size, 0);
    assert.equal(table.bytes, 0);
  });
});
