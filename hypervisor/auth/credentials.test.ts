import { describe, expect, it } from 'vitest';
import { HttpError } from '../http/errors.ts';
import { parseAuthenticationResponse, parseRegistrationResponse, signedChallenge } from './credentials.ts';

const clientData = (data: unknown): string => Buffer.from(JSON.stringify(data)).toString('base64url');

const registration = (overrides: Record<string, unknown> = {}, response: Record<string, unknown> = {}) => ({
  id: 'cred-1_A',
  rawId: 'cred-1_A',
  type: 'public-key',
  response: { clientDataJSON: clientData({ challenge: 'c-1' }), attestationObject: 'o2NmbXRk', transports: ['usb', 7, 'internal'], ...response },
  ...overrides,
});

const assertion = (response: Record<string, unknown> = {}) => ({
  id: 'cred-1_A',
  rawId: 'cred-1_A',
  type: 'public-key',
  response: { clientDataJSON: clientData({ challenge: 'c-2' }), authenticatorData: 'SZYN5Y', signature: 'MEUCIQ==', ...response },
});

/** The status and message a parse refuses with. */
function refusal(parse: () => unknown): { status: number; message: string } | 'parsed' {
  try {
    parse();
    return 'parsed';
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, message: error.message };
    throw error;
  }
}

describe('passkey responses as the browser posts them', () => {
  it('reads a registration, keeping only the transports that are strings', () => {
    expect(parseRegistrationResponse(registration())).toEqual({
      id: 'cred-1_A',
      rawId: 'cred-1_A',
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: clientData({ challenge: 'c-1' }), attestationObject: 'o2NmbXRk', transports: ['usb', 'internal'] },
    });
  });

  it('refuses with 400 naming the field anything in a base64url field that is not wholly base64url (padding = at the end only)', () => {
    for (const id of ['cred 1', 'cred+1/', 'cred.1', 'a=b', '', 7]) {
      expect(refusal(() => parseRegistrationResponse(registration({ id }))), String(id)).toEqual({ status: 400, message: 'id is required and must be a base64url string' });
    }
    expect(refusal(() => parseAuthenticationResponse(assertion({ signature: 'MEUC IQ==' })))).toEqual({ status: 400, message: 'response.signature is required and must be a base64url string' });
    expect(parseAuthenticationResponse(assertion()).response.signature).toBe('MEUCIQ==');
  });

  it('refuses a credential whose type is not "public-key" or whose response is not an object', () => {
    expect(refusal(() => parseRegistrationResponse(registration({ type: 'password' })))).toMatchObject({ status: 400, message: expect.stringMatching(/^type must be "public-key"/) });
    // Left out is not "public-key" either: the field is required, in a registration and in an assertion alike.
    const { type: _registrationType, ...untypedRegistration } = registration();
    expect(refusal(() => parseRegistrationResponse(untypedRegistration))).toMatchObject({ status: 400, message: expect.stringMatching(/^type must be "public-key"/) });
    const { type: _assertionType, ...untypedAssertion } = assertion();
    expect(refusal(() => parseAuthenticationResponse(untypedAssertion))).toMatchObject({ status: 400, message: expect.stringMatching(/^type must be "public-key"/) });
    expect(refusal(() => parseAuthenticationResponse({ ...assertion(), response: ['x'] }))).toMatchObject({ status: 400, message: expect.stringMatching(/^response is required and must be an object/) });
  });

  it('keeps a userHandle only when it is a non-empty string', () => {
    expect(parseAuthenticationResponse(assertion({ userHandle: 'dXNlcg' })).response.userHandle).toBe('dXNlcg');
    for (const userHandle of ['', null, 42]) expect('userHandle' in parseAuthenticationResponse(assertion({ userHandle })).response, String(userHandle)).toBe(false);
  });

  it('reads the signed challenge from clientDataJSON, and refuses client data without one with 400', () => {
    expect(signedChallenge(clientData({ type: 'webauthn.get', challenge: 'c-3' }))).toBe('c-3');
    for (const data of [clientData({ challenge: '' }), clientData({ type: 'webauthn.get' }), Buffer.from('not json').toString('base64url')]) {
      expect(refusal(() => signedChallenge(data))).toEqual({ status: 400, message: 'response.clientDataJSON must be base64url-encoded client data JSON holding a challenge' });
    }
  });
});
