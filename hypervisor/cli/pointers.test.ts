import { describe, expect, it } from 'vitest';
import { pointers } from './pointers.ts';
import { cliInProcess } from './testing/cli-in-process.ts';

const cli = cliInProcess('pointers-test-token');
const { stdout, stderr } = cli;

const at = '2026-12-01T10:00:00.000Z';
const entry = { id: 1, user_id: 'alice', actor: 'admin:cli:op', at, drained: true, action: 'swap', from: { role: 'live', release_id: 4 }, to: { role: 'dev', release_id: 3 }, reason: 'try dev', error: null };

describe('pointers prints each switch with its duration when the history has one', () => {
  it('a switch that took 0 ms says so; one with no duration (null) leaves it out', async () => {
    cli.api.answers.set('GET /admin/sandboxes/alice/pointers', { body: { user_id: 'alice', main: 'dev', dev: 'live', updated_at: at, slots: { live: null, dev: null } } });
    cli.api.answers.set('GET /admin/sandboxes/alice/switches?limit=10', {
      body: { switches: [{ ...entry, id: 2, outcome: 'switched', duration_ms: 0 }, { ...entry, outcome: 'refused', duration_ms: null }] },
    });
    expect(await pointers.run(['--user', 'alice']), stderr.join('\n')).toBe(0);
    const lines = stdout.join('\n').split('\n');
    expect(lines.slice(3)).toEqual([`  ${at} swap by admin:cli:op: live -> dev switched in 0 ms (try dev)`, `  ${at} swap by admin:cli:op: live -> dev refused (try dev)`]);
  });
});
