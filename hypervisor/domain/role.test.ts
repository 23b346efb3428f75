import { describe, expect, it } from 'vitest';
import { InvalidRoleError, parseRole, roles } from './role.ts';

describe("a sandbox's role", () => {
  it('is live or dev, live first', () => {
    expect(roles).toEqual(['live', 'dev']);
    expect([parseRole('live'), parseRole('dev')]).toEqual(['live', 'dev']);
  });

  it.each(['Live', 'DEV', ' live', 'main', ''])("refuses %j with the contract's wording, keeping what was given", (given) => {
    let refused: unknown;
    try {
      parseRole(given);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(InvalidRoleError);
    expect(refused).toMatchObject({ name: 'InvalidRoleError', message: "role must be 'live' or 'dev'", role: given });
  });
});
