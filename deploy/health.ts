import { request } from 'undici';

/** What the hypervisor's /health said ({status: "healthy", boot_id, ...}), or why it could not be asked. */
export interface HealthReading {
  healthy: boolean;
  statusCode: number | undefined;
  body: string;
  bootId: string | undefined;
}

export async function readHealth(url: string): Promise<HealthReading> {
  try {
    const answer = await request(url, { headersTimeout: 3_000, bodyTimeout: 3_000 });
    const body = await answer.body.text();
    let parsed: { status?: unknown; boot_id?: unknown } = {};
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      // Not JSON: not the hypervisor's health.
    }
    return { healthy: answer.statusCode === 200 && parsed.status === 'healthy', statusCode: answer.statusCode, body, bootId: typeof parsed.boot_id === 'string' ? parsed.boot_id : undefined };
  } catch (error) {
    return { healthy: false, statusCode: undefined, body: (error as Error).message, bootId: undefined };
  }
}

/**
 * Polls until /health answers healthy, from a hypervisor other than `notBootId` when given (so the
 * answer comes from the generation just activated, not the one before it), or the time is up.
 */
export async function waitForHealth(url: string, timeoutMs: number, notBootId?: string): Promise<{ reading: HealthReading; ms: number }> {
  const started = performance.now();
  let reading = await readHealth(url);
  while (!(reading.healthy && reading.bootId !== notBootId) && performance.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    reading = await readHealth(url);
  }
  return { reading, ms: performance.now() - started };
}
