import packageJson from '../package.json' with { type: 'json' };

/** The checkout's version; the image overrides it with SANDBOX_VERSION baked in at build time. */
export const packageVersion: string = packageJson.version;
