import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/**
 * A software authenticator for HTTP-level tests and benchmarks: a real P-256 key producing real
 * attestations and assertions (fmt "none"), so the server's verification runs unchanged. Browser
 * tests use Chromium's virtual authenticator instead (fixtures/passkey.ts).
 */
export interface SoftwarePasskey {
  readonly credentialId: string;
  register(options: PublicKeyCredentialCreationOptionsJSON, overrides?: { origin?: string; challenge?: string }): RegistrationResponseJSON;
  /** `userVerified: false`: the authenticator saw a user present but did not verify them (no PIN or biometric). */
  authenticate(options: PublicKeyCredentialRequestOptionsJSON, overrides?: { origin?: string; challenge?: string; userVerified?: boolean }): AuthenticationResponseJSON;
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

const flags = { userPresent: 0x01, userVerified: 0x04, attestedCredential: 0x40 };

export function createSoftwarePasskey({ origin, rpId }: { origin: string; rpId: string }): SoftwarePasskey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const credentialId = randomBytes(16);
  let signCount = 0;

  const coseKey = (key: KeyObject): Uint8Array => {
    const jwk = key.export({ format: 'jwk' });
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(String(jwk.x), 'base64url')],
        [-3, Buffer.from(String(jwk.y), 'base64url')],
      ]),
    );
  };

  const authenticatorData = (attested: boolean, userVerified = true): Buffer => {
    signCount += 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(signCount);
    const parts = [sha256(rpId), Buffer.from([flags.userPresent | (userVerified ? flags.userVerified : 0) | (attested ? flags.attestedCredential : 0)]), counter];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(credentialId.length);
      parts.push(Buffer.alloc(16), length, credentialId, Buffer.from(coseKey(publicKey)));
    }
    return Buffer.concat(parts);
  };

  const clientData = (type: string, challenge: string, at: string): Buffer => Buffer.from(JSON.stringify({ type, challenge, origin: at, crossOrigin: false }));

  return {
    credentialId: b64url(credentialId),
    register(options, overrides = {}) {
      const authData = authenticatorData(true);
      const attestationObject = isoCBOR.encode(new Map<string, string | Uint8Array | Map<string, string>>([['fmt', 'none'], ['attStmt', new Map<string, string>()], ['authData', authData]]));
      return {
        id: b64url(credentialId),
        rawId: b64url(credentialId),
        type: 'public-key',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64url(clientData('webauthn.create', overrides.challenge ?? options.challenge, overrides.origin ?? origin)),
          attestationObject: b64url(attestationObject),
          transports: ['internal'],
        },
      };
    },
    authenticate(options, overrides = {}) {
      const authData = authenticatorData(false, overrides.userVerified);
      const client = clientData('webauthn.get', overrides.challenge ?? options.challenge, overrides.origin ?? origin);
      const signature = sign('sha256', Buffer.concat([authData, sha256(client)]), privateKey);
      return {
        id: b64url(credentialId),
        rawId: b64url(credentialId),
        type: 'public-key',
        clientExtensionResults: {},
        response: { clientDataJSON: b64url(client), authenticatorData: b64url(authData), signature: b64url(signature) },
      };
    },
  };
}
