import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadDesktopAssets, publicDir } from './desktop.ts';
import { removeDataDir, tempDataDir } from './testing/sandbox-process.ts';

let dir: string;

beforeEach(() => {
  dir = path.join(tempDataDir(), 'public');
  mkdirSync(dir);
});

afterEach(() => removeDataDir(path.dirname(dir)));

describe('the desktop page assets', () => {
  test('each .html, .js and .css file is served at /<name> with its type, index.html also at /; other files are not served', () => {
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(path.join(dir, 'desktop.js'), '1');
    writeFileSync(path.join(dir, 'desktop.css'), 'a{}');
    writeFileSync(path.join(dir, 'notes.txt'), 'private');
    const assets = loadDesktopAssets(dir);
    expect([...assets.keys()].sort()).toEqual(['/', '/desktop.css', '/desktop.js', '/index.html']);
    expect(assets.get('/')?.body.toString()).toBe('<!doctype html>');
    expect(assets.get('/')?.contentType).toBe('text/html; charset=utf-8');
    expect(assets.get('/desktop.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(assets.get('/desktop.css')?.contentType).toBe('text/css; charset=utf-8');
  });

  test('a build without index.html is refused at start, naming the missing file', () => {
    writeFileSync(path.join(dir, 'desktop.js'), '1');
    expect(() => loadDesktopAssets(dir)).toThrow(`the desktop page ${path.join(dir, 'index.html')} is missing`);
  });

  test("the checkout's public/ has the page, its script and its style", () => {
    expect([...loadDesktopAssets(publicDir).keys()]).toEqual(expect.arrayContaining(['/', '/index.html', '/desktop.js', '/desktop.css']));
  });
});
