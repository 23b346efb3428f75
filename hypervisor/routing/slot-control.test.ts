import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestHypervisor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import type { SlotControl } from './context.ts';
import { managerSlots } from './slot-control.ts';

let hv: TestHypervisor;
let slots: SlotControl;

beforeAll(async () => {
  hv = await startTestHypervisor({ SANDBOX_RUNTIME: 'process' });
  slots = managerSlots(hv.hypervisor.sandboxes);
});

afterAll(async () => {
  await hv?.close();
  if (hv) removeDir(hv.dir);
});

describe("routing's view of the sandbox manager", () => {
  it('stops a slot that never ran without an error, so cleaning up after a refused deploy cannot fail', async () => {
    await expect(slots.stop({ userId: 'never-started', role: 'dev' })).resolves.toBeUndefined();
    expect(slots.status({ userId: 'never-started', role: 'dev' })).toBeUndefined();
  });

  it('starts a slot with the release spec, reports its port and status, and names each user once', async () => {
    const spec = { runtime: 'process' as const, image: '', config: { SANDBOX_VERSION: '9.9.9-slot' } };
    const live = await slots.start({ userId: 'slot-user', role: 'live' }, spec);
    await slots.start({ userId: 'slot-user', role: 'dev' }, spec);
    expect(slots.status({ userId: 'slot-user', role: 'live' })).toMatchObject({ status: 'running', port: live.port, spec: { config: spec.config } });
    expect(slots.users().filter((userId) => userId === 'slot-user')).toEqual(['slot-user']);
    await slots.stop({ userId: 'slot-user', role: 'live' });
    await slots.stop({ userId: 'slot-user', role: 'dev' });
    expect(slots.status({ userId: 'slot-user', role: 'live' })?.status).toBe('stopped');
  });
});
