import { request, type Dispatcher } from 'undici';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { SoftwarePasskey } from './software-passkey.ts';

/**
 * An HTTP client for the auth routes, as a browser would drive them (Origin, JSON, the session
 * cookie), for tests and benchmarks that need a logged-in session without a browser.
 */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** The session cookie's value from Set-Cookie, when one was set. */
  session?: string;
}

/** Where to connect (`url`, loopback) and the origin a browser there would send (`origin`). */
export interface AuthTarget {
  url: string;
  origin: string;
}

/** `dispatcher`: connect another way (e.g. from another loopback address); `headers`: extra request headers. */
export interface PostOptions {
  cookie?: string;
  origin?: string | null;
  dispatcher?: Dispatcher;
  headers?: Record<string, string>;
}

export async function postJson(target: AuthTarget, path: string, body: unknown, { cookie, origin = target.origin, dispatcher, headers = {} }: PostOptions = {}): Promise<Reply> {
  const res = await request(new URL(path, target.url), {
    method: 'POST',
    ...(dispatcher ? { dispatcher } : {}),
    headers: {
      ...headers,
      'content-type': 'application/json',
      ...(origin ? { origin } : {}),
      ...(cookie ? { cookie: `choiros_session=${cookie}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  const setCookie = [res.headers['set-cookie'] ?? []].flat().join('\n');
  const session = /choiros_session=([^;]*)/.exec(setCookie)?.[1];
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, ...(session !== undefined ? { session } : {}) };
}

export async function registerWithPasskey(
  target: AuthTarget,
  { username, displayName, passkey, cookie }: { username: string; displayName?: string; passkey: SoftwarePasskey; cookie?: string },
): Promise<Reply> {
  const start = await postJson(target, '/auth/register/start', { username, ...(displayName ? { display_name: displayName } : {}) }, cookie ? { cookie } : {});
  if (start.status !== 200) return start;
  const credential = passkey.register(start.body.publicKey as PublicKeyCredentialCreationOptionsJSON);
  return postJson(target, '/auth/register/finish', credential, cookie ? { cookie } : {});
}

export async function loginWithPasskey(target: AuthTarget, { username, passkey }: { username: string; passkey: SoftwarePasskey }): Promise<Reply> {
  const start = await postJson(target, '/auth/login/start', { username });
  if (start.status !== 200) return start;
  return postJson(target, '/auth/login/finish', passkey.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON));
}

export async function getJson(target: AuthTarget, path: string, cookie?: string): Promise<Reply> {
  const res = await request(new URL(path, target.url), { headers: cookie ? { cookie: `choiros_session=${cookie}` } : {} });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
