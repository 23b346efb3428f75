import { describe, expect, it } from 'vitest';
import { AdminCallError } from './admin-call-error.ts';

describe("an admin call's error", () => {
  it("names the call and its status, with the hypervisor's JSON `error` as the reason, keeping status and body", () => {
    const body = { error: 'no release 7', results: [] };
    const error = AdminCallError.answered('POST', '/admin/rollback', 422, body, JSON.stringify(body));
    expect(error).toBeInstanceOf(AdminCallError);
    expect(error).toMatchObject({ name: 'AdminCallError', message: 'POST /admin/rollback answered 422: no release 7', status: 422, body });
  });

  it('falls back to the first 500 characters of the text when the answer has no `error`', () => {
    const page = `<html>${'x'.repeat(600)}</html>`;
    const error = AdminCallError.answered('GET', '/admin/sandboxes', 502, page, page);
    expect(error.message).toBe(`GET /admin/sandboxes answered 502: ${page.slice(0, 500)}`);
    expect(AdminCallError.answered('GET', '/admin/sandboxes', 500, { detail: 'x' }, '{"detail":"x"}').message).toBe('GET /admin/sandboxes answered 500: {"detail":"x"}');
  });

  it('has no status when the hypervisor was not reached', () => {
    expect(new AdminCallError('cannot reach the hypervisor').status).toBeUndefined();
  });
});
