import { describe, expect, it } from 'vitest';
import { RoutingError, routingErrorCodes, type RoutingErrorCode } from './errors.ts';

// The admin API's documented answer per refusal (hypervisor/routing/README.md, "Errors are {error, code}").
const documented: Record<RoutingErrorCode, number> = {
  invalid_input: 400,
  release_not_found: 404,
  no_known_good: 409,
  no_release: 409,
  health_check_failed: 422,
  start_failed: 422,
};

describe('routing errors', () => {
  it('each refusal answers the status the README documents for its code: a bad input 400, an unknown release 404, nothing to roll back to or promote 409, a target that did not start or failed its check 422', () => {
    const statuses = Object.fromEntries(Object.keys(routingErrorCodes).map((code) => [code, new RoutingError(code as RoutingErrorCode, 'why').status]));
    expect(statuses).toEqual(documented);
  });
});
