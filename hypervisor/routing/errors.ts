/**
 * Why a routing operation did not happen. Each code maps to one HTTP status in the admin API,
 * and each message says what failed, for which input, and what to do.
 */
export const routingErrorCodes = {
  invalid_input: 400,
  release_not_found: 404,
  no_known_good: 409,
  no_release: 409,
  health_check_failed: 422,
  start_failed: 422,
} as const;

export type RoutingErrorCode = keyof typeof routingErrorCodes;

export class RoutingError extends Error {
  readonly code: RoutingErrorCode;
  constructor(code: RoutingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoutingError';
    this.code = code;
  }

  get status(): number {
    return routingErrorCodes[this.code];
  }
}
