import type { ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The auth UI: three small pages served by the hypervisor, one script of ours and the WebAuthn
 * browser library straight from node_modules. No CDN, no inline script (the CSP forbids it).
 */
const page = (name: 'login' | 'register' | 'recovery', title: string, main: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ChoirOS</title>
<link rel="stylesheet" href="/auth/assets/auth.css">
<script src="/auth/assets/simplewebauthn-browser.js" defer></script>
<script src="/auth/assets/auth.js" defer></script>
</head>
<body data-page="${name}">
<main>
<h1>${title}</h1>
<p role="alert" id="error" hidden></p>
${main}
</main>
</body>
</html>
`;

const pages = {
  '/login': page(
    'login',
    'Log in',
    `<form id="login-form">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username webauthn" required>
<button type="submit">Log in with a passkey</button>
</form>
<p>New here? <a href="/register">Register</a>. Lost your passkey? <a href="/recovery">Use a recovery code</a>.</p>`,
  ),
  '/register': page(
    'register',
    'Register',
    `<form id="register-form">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required>
<label for="display-name">Display name</label>
<input id="display-name" name="display_name" autocomplete="name" required>
<button type="submit">Register with a passkey</button>
</form>
<section id="registered" hidden>
<p id="registered-message">Your passkey is registered.</p>
<div id="codes" hidden>
<h2>Recovery codes</h2>
<p>Save these now: they are shown only this once. Each code works once, if you lose your passkey.</p>
<ol data-testid="recovery-codes"></ol>
</div>
<a href="/">Continue</a>
</section>
<p>Have an account? <a href="/login">Log in</a>.</p>`,
  ),
  '/recovery': page(
    'recovery',
    'Recover your account',
    `<form id="recovery-form">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required>
<label for="code">Recovery code</label>
<input id="code" name="code" autocomplete="one-time-code" placeholder="xxxxx-xxxxx-xxxxx-xxxxx" required>
<button type="submit">Recover</button>
</form>
<section id="recovered" hidden>
<p>Recovery code accepted. Register a new passkey for this account now; this offer ends in 10 minutes.</p>
<button type="button" id="register-new">Register a new passkey</button>
</section>
<section id="registered" hidden>
<p>Your new passkey is registered and you are logged in.</p>
<a href="/">Continue</a>
</section>`,
  ),
} as const;

export type PagePath = keyof typeof pages;
export const isPagePath = (pathname: string): pathname is PagePath => Object.hasOwn(pages, pathname);
export const pagePaths = Object.keys(pages) as PagePath[];

const browserLibrary = (): Buffer => {
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  const packageRoot = entry.slice(0, entry.lastIndexOf(`${path.sep}script${path.sep}`));
  return readFileSync(path.join(packageRoot, 'dist', 'bundle', 'index.umd.min.js'));
};

const assets: Record<string, { type: string; body: Buffer }> = {
  '/auth/assets/simplewebauthn-browser.js': { type: 'text/javascript; charset=utf-8', body: browserLibrary() },
  '/auth/assets/auth.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('public/auth.js', import.meta.url)) },
  '/auth/assets/auth.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('public/auth.css', import.meta.url)) },
};

export const assetPaths = Object.keys(assets);

const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function servePage(res: ServerResponse, pathname: PagePath, method: string): void {
  const body = Buffer.from(pages[pathname]);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store', ...securityHeaders });
  res.end(method === 'HEAD' ? undefined : body);
}

/** Returns false when `pathname` is not one of the assets. */
export function serveAsset(res: ServerResponse, pathname: string, method: string): boolean {
  const asset = assets[pathname];
  if (!asset) return false;
  res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'public, max-age=300', ...securityHeaders });
  res.end(method === 'HEAD' ? undefined : asset.body);
  return true;
}
