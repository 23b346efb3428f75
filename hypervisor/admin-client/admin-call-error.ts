/**
 * The one error of the admin client: the hypervisor refused a call (status is its HTTP status), or
 * could not be reached or found (status undefined). The message is the hypervisor's own reason.
 */
export class AdminCallError extends Error {
  readonly status: number | undefined;
  /** The refusal's parsed JSON body, for callers that report more than its `error` (rollback --all's per-user results). */
  readonly body: unknown;
  constructor(message: string, status?: number, body?: unknown) {
    super(message);
    this.name = 'AdminCallError';
    this.status = status;
    this.body = body;
  }

  /** A non-2xx answer: `METHOD ROUTE answered STATUS: reason`, the reason the JSON `error` field when there is one. */
  static answered(method: string, route: string, status: number, body: unknown, text: string): AdminCallError {
    const reason = typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : text.slice(0, 500);
    return new AdminCallError(`${method} ${route} answered ${status}: ${reason}`, status, body);
  }
}
