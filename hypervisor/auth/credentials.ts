import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { HttpError } from '../http/errors.ts';
import { objectField } from './fields.ts';

const base64url = /^[A-Za-z0-9_-]+={0,2}$/;

function base64urlField(body: Record<string, unknown>, field: string, where: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !base64url.test(value)) {
    throw new HttpError(400, `${where}${field} is required and must be a base64url string`);
  }
  return value;
}

function credentialBase(body: Record<string, unknown>): { id: string; rawId: string; response: Record<string, unknown> } {
  const id = base64urlField(body, 'id', '');
  const rawId = base64urlField(body, 'rawId', '');
  if (body.type !== 'public-key') throw new HttpError(400, 'type must be "public-key" (send the credential as @simplewebauthn/browser returns it)');
  const response = objectField(body, 'response', 'the authenticator response from @simplewebauthn/browser');
  return { id, rawId, response };
}

/** The challenge the browser signed, read from clientDataJSON, to find the server's record of it. */
export function signedChallenge(clientDataJSON: string): string {
  try {
    const client = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    if (typeof client.challenge === 'string' && client.challenge) return client.challenge;
  } catch {
    // reported below, with the field's name
  }
  throw new HttpError(400, 'response.clientDataJSON must be base64url-encoded client data JSON holding a challenge');
}

export function parseRegistrationResponse(body: Record<string, unknown>): RegistrationResponseJSON {
  const { id, rawId, response } = credentialBase(body);
  const clientDataJSON = base64urlField(response, 'clientDataJSON', 'response.');
  const attestationObject = base64urlField(response, 'attestationObject', 'response.');
  const transports = Array.isArray(response.transports) ? response.transports.filter((t): t is string => typeof t === 'string') : [];
  return {
    id,
    rawId,
    type: 'public-key',
    clientExtensionResults: {},
    response: { clientDataJSON, attestationObject, transports: transports as RegistrationResponseJSON['response']['transports'] },
  };
}

export function parseAuthenticationResponse(body: Record<string, unknown>): AuthenticationResponseJSON {
  const { id, rawId, response } = credentialBase(body);
  const userHandle = response.userHandle;
  return {
    id,
    rawId,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: base64urlField(response, 'clientDataJSON', 'response.'),
      authenticatorData: base64urlField(response, 'authenticatorData', 'response.'),
      signature: base64urlField(response, 'signature', 'response.'),
      ...(typeof userHandle === 'string' && userHandle ? { userHandle } : {}),
    },
  };
}
